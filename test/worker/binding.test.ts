/**
 * The service binding's entrypoint (src/binding.ts) called as a binding calls it, inside workerd: its answer is
 * what `env.AI.run('@cf/microsoft/resnet-50', { image })` gives (the five best {label, score}), the same as the
 * REST route's `result`; errors are thrown with the API's code first. A second Worker calling it through a real
 * `[[services]]` binding is test/node/binding.e2e.test.ts.
 */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkersAiBinding } from '../../src/binding.js';
import { WorkersAiEnvelopeSchema, WorkersAiResultSchema } from '../../src/http/schemas.js';
import { fetchFixture, publishTestModel } from './helpers.js';

let jpeg: Uint8Array;
let restResult: unknown;

beforeAll(async () => {
  await publishTestModel();
  jpeg = await fetchFixture('fixtures/circle.jpg');
  restResult = WorkersAiEnvelopeSchema.parse(await (await SELF.fetch('http://worker/ai/run/@cf/microsoft/resnet-50', { method: 'POST', body: jpeg })).json()).result;
});

async function call<T>(work: (binding: WorkersAiBinding) => Promise<T>): Promise<T> {
  const ctx = createExecutionContext();
  try {
    return await work(new WorkersAiBinding(ctx, env));
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

describe('WorkersAiBinding.run', () => {
  it('answers {image: number[]} (the documented input) and bytes alike, as the REST route does', async () => {
    const fromArray = WorkersAiResultSchema.parse(await call((b) => b.run('@cf/microsoft/resnet-50', { image: Array.from(jpeg) })));
    expect(fromArray).toHaveLength(5);
    expect(fromArray).toEqual(restResult);
    expect(await call((b) => b.run('@cf/microsoft/resnet-50', { image: jpeg }))).toEqual(restResult);
  });

  it('throws with the error code first: another model, no image, not an image', async () => {
    await expect(call((b) => b.run('@cf/microsoft/resnet-101', { image: Array.from(jpeg) }))).rejects.toThrow(/^model_not_found: /);
    await expect(call((b) => b.run('@cf/microsoft/resnet-50', { image: [] }))).rejects.toThrow(/^invalid_body: /);
    await expect(call((b) => b.run('@cf/microsoft/resnet-50', { image: [300, 1] }))).rejects.toThrow(/^invalid_body: /);
    await expect(call((b) => b.run('@cf/microsoft/resnet-50', { image: Array.from(new TextEncoder().encode('GIF89a')) }))).rejects.toThrow(/^unsupported_format: /);
    // …and the next call is served.
    expect(await call((b) => b.run('@cf/microsoft/resnet-50', { image: jpeg }))).toEqual(restResult);
  });

  it('serves the HTTP API on its fetch too', async () => {
    const res = await call((b) => b.fetch(new Request('http://worker/v1/models')));
    expect(res.status).toBe(200);
  });
});
