/** A model that does not match its manifest is never served; a bad new manifest never evicts a good session. */
import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_KEY, modelKey, type Manifest } from '../../src/core/manifest.js';
import { resetRegistry } from '../../src/model/registry.js';
import { releaseModelBytes } from '../../src/model/store.js';
import { fetchFixture, fetchTestModel, publishTestModel } from './helpers.js';

let good: { manifest: Manifest; bytes: Uint8Array };
let jpeg: Uint8Array;

beforeAll(async () => {
  good = await fetchTestModel();
  jpeg = await fetchFixture('fixtures/circle.jpg');
});

const predict = () => SELF.fetch('http://worker/predict', { method: 'POST', body: jpeg });
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe('model integrity', () => {
  it('refuses a model whose bytes do not match the manifest sha256 (503, clear code)', async () => {
    await resetRegistry();
    const tampered = Uint8Array.from(good.bytes);
    tampered[tampered.length - 10]! ^= 0xff;
    await env.MODELS.put(modelKey(good.manifest), tampered);
    await env.MODELS.put(MANIFEST_KEY, JSON.stringify(good.manifest));
    const res = await predict();
    expect(res.status).toBe(503);
    expect(await code(res)).toBe('model_integrity_failed');
    const ready = await SELF.fetch('http://worker/readyz');
    expect(ready.status).toBe(503);
  });

  it('refuses a size mismatch and a missing object', async () => {
    await resetRegistry();
    await env.MODELS.put(modelKey(good.manifest), good.bytes.subarray(0, 1000));
    expect(await code(await predict())).toBe('model_integrity_failed');
    await env.MODELS.delete(modelKey(good.manifest));
    expect(await code(await predict())).toBe('model_object_missing');
    await env.MODELS.put(MANIFEST_KEY, '{"not": "a manifest"}');
    expect(await code(await predict())).toBe('model_manifest_invalid');
  });

  it('keeps serving the previous good session when a new manifest points at a broken model', async () => {
    await resetRegistry();
    await publishTestModel(good);
    expect((await predict()).status).toBe(200);
    const broken: Manifest = { ...good.manifest, version: 'broken', sha256: 'f'.repeat(64) };
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
