/** A model that does not match its manifest is never served; a bad new manifest never evicts a good session. */
import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_KEY, modelKey, weightsKey, type Manifest } from '../../src/core/manifest.js';
import { resetRegistry } from '../../src/model/registry.js';
import { releaseModelBytes } from '../../src/model/store.js';
import { fetchFixture, fetchTestModel, publishTestModel, withoutExternalData, type TestModel } from './helpers.js';

let good: TestModel;
/** The manifest without the external-data form: the Worker reads the model file itself. */
let plain: Manifest;
let jpeg: Uint8Array;

beforeAll(async () => {
  good = await fetchTestModel();
  plain = withoutExternalData(good.manifest);
  jpeg = await fetchFixture('fixtures/circle.jpg');
});

const predict = () => SELF.fetch('http://worker/predict', { method: 'POST', body: jpeg });
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe('model integrity', () => {
  it('refuses a model whose bytes do not match the manifest sha256 (503, clear code)', async () => {
    await resetRegistry();
    const tampered = Uint8Array.from(good.bytes);
    tampered[tampered.length - 10]! ^= 0xff;
    await env.MODELS.put(modelKey(plain), tampered);
    await env.MODELS.put(MANIFEST_KEY, JSON.stringify(plain));
    const res = await predict();
    expect(res.status).toBe(503);
    expect(await code(res)).toBe('model_integrity_failed');
    const ready = await SELF.fetch('http://worker/readyz');
    expect(ready.status).toBe(503);
  });

  it('refuses a size mismatch and a missing object', async () => {
    await resetRegistry();
    await env.MODELS.put(MANIFEST_KEY, JSON.stringify(plain));
    await env.MODELS.put(modelKey(plain), good.bytes.subarray(0, 1000));
    expect(await code(await predict())).toBe('model_integrity_failed');
    await env.MODELS.delete(modelKey(plain));
    expect(await code(await predict())).toBe('model_object_missing');
    await env.MODELS.put(MANIFEST_KEY, '{"not": "a manifest"}');
    expect(await code(await predict())).toBe('model_manifest_invalid');
  });

  it('checks the external-data form too: tampered weights, a missing graph', async () => {
    const split = good.manifest.externalData!;
    expect(split, 'the test model has an external-data form').toBeDefined();
    await resetRegistry();
    await publishTestModel(good);
    const tampered = Uint8Array.from(good.split!.weights);
    tampered[123]! ^= 0x01;
    await env.MODELS.put(weightsKey(split.weights), tampered);
    expect(await code(await predict())).toBe('model_integrity_failed');
    await resetRegistry();
    await publishTestModel(good);
    await env.MODELS.delete(modelKey(split.graph));
    expect(await code(await predict())).toBe('model_object_missing');
    await publishTestModel(good);
  });

  it('keeps serving the previous good session when a new manifest points at a broken model', async () => {
    await resetRegistry();
    await publishTestModel(good);
    expect((await predict()).status).toBe(200);
    const broken: Manifest = { ...plain, version: 'broken', sha256: 'f'.repeat(64) };
    await env.MODELS.put(modelKey(broken), good.bytes); // bytes whose hash is not 'fff…'
    await env.MODELS.put(MANIFEST_KEY, JSON.stringify(broken));
    const res = await predict();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model: { version: string } }).model.version).toBe(good.manifest.version);
    await publishTestModel(good);
  });

  it('gives the model bytes back at once after the session exists (workerd detaches the buffer), never a shared one', () => {
    const bytes = new Uint8Array(1 << 20).fill(7);
    expect(releaseModelBytes(bytes)).toBe(true);
    expect(bytes.buffer.byteLength).toBe(0); // detached: the backing store is gone, not waiting for a GC
    const shared = new Uint8Array(1024);
    const view = shared.subarray(16);
    expect(releaseModelBytes(view)).toBe(false);
    expect(shared.byteLength).toBe(1024);
  });
});

describe('the external-data form', () => {
  const scores = async () => ((await (await predict()).json()) as { top: Array<{ index: number; score: number }> }).top.sort((a, b) => a.index - b.index);
  const expectSame = (a: Array<{ score: number }>, b: Array<{ score: number }>) => {
    expect(a).toHaveLength(good.manifest.labels.length);
    for (const [i, s] of a.entries()) expect(Math.abs(s.score - b[i]!.score)).toBeLessThanOrEqual(1e-6);
  };

  it('gives the same probabilities as the model file itself, which a manifest of the earlier format still loads', async () => {
    await resetRegistry();
    await publishTestModel(good);
    const split = await scores();
    const load = ((await (await SELF.fetch('http://worker/debug/memory')).json()) as { loaded: string }).loaded;
    expect(load).toBe(good.manifest.sha256);
    await resetRegistry();
    await publishTestModel(good, plain);
    expectSame(await scores(), split);
    await resetRegistry();
    await publishTestModel(good);
  });

  it('is pre-optimised, and a Worker that runs ORT\u2019s optimisers on it anyway gets the same probabilities', async () => {
    expect(good.manifest.externalData?.preOptimised?.level, 'the test model has a pre-optimised graph').toBe('all');
    await resetRegistry();
    await publishTestModel(good);
    const preOptimised = await scores();
    // A manifest without the field (as Workers that predate it read this one): ORT optimises the graph again.
    const { preOptimised: _, ...split } = good.manifest.externalData!;
    await resetRegistry();
    await publishTestModel(good, { ...good.manifest, externalData: split });
    expectSame(await scores(), preOptimised);
    await resetRegistry();
    await publishTestModel(good);
  });
});
