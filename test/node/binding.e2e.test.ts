/**
 * End to end: a second Worker (examples/workers-ai-client, code written for Workers AI's `env.AI.run`) calls
 * edge-resnet through a `[[services]]` binding to its WorkersAiBinding entrypoint, both in one wrangler dev
 * session as `npm start -- --client-config …` runs them. Its answer has the hosted model's shape and equals
 * edge-resnet's REST answer.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorker, type RunningWorker } from '../../bench/lib/worker-server.js';
import { WorkersAiEnvelopeSchema, WorkersAiResultSchema } from '../../src/http/schemas.js';

let worker: RunningWorker;

beforeAll(async () => {
  worker = await startWorker(inject('testModelDir'), [], { clientConfig: 'examples/workers-ai-client/wrangler.toml' });
});

afterAll(async () => {
  await worker?.stop();
});

describe('service binding from a second Worker', () => {
  it("returns env.AI.run's answer: the five best {label, score}, as the REST route's result", async () => {
    const jpeg = await readFile(join(inject('testModelDir'), 'fixtures', 'circle.jpg'));
    const res = await fetch(`${worker.base}/classify`, { method: 'POST', body: jpeg });
    expect(res.status).toBe(200);
    const result = WorkersAiResultSchema.parse(await res.json());
    expect(result).toHaveLength(5);
    // The client forwards other paths to edge-resnet's HTTP API over the same binding.
    const rest = await fetch(`${worker.base}/ai/run/@cf/microsoft/resnet-50`, { method: 'POST', body: jpeg });
    expect(WorkersAiEnvelopeSchema.parse(await rest.json()).result).toEqual(result);
  });

  it('throws a bad image back to the caller with its code, and serves the next call', async () => {
    const bad = await fetch(`${worker.base}/classify`, { method: 'POST', body: 'GIF89a' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^unsupported_format: /);
    const png = await readFile(join(inject('testModelDir'), 'fixtures', 'star.png'));
    expect((await fetch(`${worker.base}/classify`, { method: 'POST', body: png })).status).toBe(200);
  });
});
