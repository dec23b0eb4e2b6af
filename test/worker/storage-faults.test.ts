/**
 * Storage faults, inside workerd, through an R2 binding that injects them in front of the real one: `get`
 * throwing, returning null, a body that breaks off or stalls, for the manifest and for the model's objects.
 * A cold isolate answers 503 with a stable code and Retry-After and recovers on the next request once storage
 * does; a warm one keeps serving its model; concurrent first requests share one attempt and one answer.
 */
import { env } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../src/app.js';
import { MANIFEST_KEY } from '../../src/core/manifest.js';
import { resetRegistry } from '../../src/model/registry.js';
import { fetchFixture, publishTestModel } from './helpers.js';

type Fault = 'throw' | 'null' | 'break' | 'stall';
type Target = 'manifest' | 'model';

/** Half of the body's first chunk, then an error (`break`) or nothing ever again (`stall`). */
function faultyBody(body: ReadableStream<Uint8Array>, fault: 'break' | 'stall'): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let sent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent) {
        await reader.cancel();
        if (fault === 'break') controller.error(new Error('connection reset by peer (injected)'));
        else await new Promise(() => {}); // never
        return;
      }
      const { done, value } = await reader.read();
      if (done) return controller.close();
      controller.enqueue(value.slice(0, Math.max(1, value.length >> 1)));
      sent = true;
    },
    cancel: () => reader.cancel(),
  });
}

/** An R2Bucket in front of the real one that injects `faults` on the manifest or the model's objects. */
class FaultyBucket {
  readonly faults = new Map<Target, Fault>();
  readonly gets: Record<Target, number> = { manifest: 0, model: 0 };
  constructor(private readonly real: R2Bucket) {}

  async get(key: string): Promise<R2ObjectBody | null> {
    const target: Target = key === MANIFEST_KEY ? 'manifest' : 'model';
    this.gets[target]++;
    const fault = this.faults.get(target);
    await new Promise((r) => setTimeout(r, 20)); // a real R2 call's round trip, even when it fails
    if (fault === 'throw') throw new Error('We encountered an internal error. Please try again. (injected)');
    if (fault === 'null') return null;
    const object = await this.real.get(key);
    if (!object || !fault) return object;
    const body = faultyBody(object.body, fault);
    const read = () => new Response(body);
    // What the Worker reads of an object: its size, its body, and the body's text.
    const faulty = { key: object.key, size: object.size, etag: object.etag, body, bodyUsed: false, text: () => read().text(), json: () => read().json(), arrayBuffer: () => read().arrayBuffer() };
    return faulty as unknown as R2ObjectBody;
  }
}

const bucket = new FaultyBucket(env.MODELS);
const faultyEnv = { ...env, MODELS: bucket as unknown as R2Bucket, STORAGE_TIMEOUT_SECONDS: '2', MANIFEST_TTL_SECONDS: '0' }; // 2 s: a healthy 25 MB load fits it even on a busy 2-core host
let jpeg: Uint8Array;
let modelName: string;

const predict = async (vars: Record<string, string> = {}) => {
  const started = Date.now();
  const res = await app.request('/predict', { method: 'POST', body: jpeg }, { ...faultyEnv, ...vars });
  const body = (await res.json()) as { error?: { code: string }; model?: { name: string; sha256: string } };
  return { status: res.status, code: body.error?.code, model: body.model, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
};

beforeAll(async () => {
  modelName = (await publishTestModel()).name;
  jpeg = await fetchFixture('fixtures/circle.jpg');
});
afterAll(async () => {
  bucket.faults.clear();
  await resetRegistry();
});

const EXPECTED: Record<Target, Record<Fault, string>> = {
  manifest: { throw: 'model_storage_unavailable', null: 'model_not_published', break: 'model_storage_unavailable', stall: 'model_storage_timeout' },
  model: { throw: 'model_storage_unavailable', null: 'model_object_missing', break: 'model_storage_unavailable', stall: 'model_storage_timeout' },
};

describe('a cold isolate', () => {
  for (const target of ['manifest', 'model'] as const) {
    for (const fault of ['throw', 'null', 'break', 'stall'] as const) {
      it(`${target} ${fault}: 503 ${EXPECTED[target][fault]} with Retry-After, then recovers once storage does`, async () => {
        await resetRegistry();
        bucket.faults.clear();
        bucket.faults.set(target, fault);
        const failed = await predict();
        expect([failed.status, failed.code]).toEqual([503, EXPECTED[target][fault]]);
        expect(Number(failed.retryAfter)).toBeGreaterThan(0);
        if (fault === 'stall') expect(failed.ms).toBeLessThan(8_000); // STORAGE_TIMEOUT_SECONDS is 2 here
        expect((await predict()).status, 'still failing while storage is').toBe(503);
        bucket.faults.clear();
        const recovered = await predict();
        expect([recovered.status, recovered.model?.name]).toEqual([200, modelName]);
        console.log(`storage fault ${target}/${fault}: ${failed.status} ${failed.code} after ${failed.ms} ms, Retry-After ${failed.retryAfter}; first request after recovery ${recovered.status} in ${recovered.ms} ms`);
      });
    }
  }

  it('concurrent first requests during a failing load share one attempt and all get the same 503', async () => {
    for (const fault of ['throw', 'stall'] as const) {
      await resetRegistry();
      bucket.faults.clear();
      bucket.faults.set('manifest', fault);
      const before = bucket.gets.manifest;
      const answers = await Promise.all(Array.from({ length: 6 }, () => predict()));
      expect(new Set(answers.map((a) => `${a.status} ${a.code}`))).toEqual(new Set([`503 ${EXPECTED.manifest[fault]}`]));
      expect(bucket.gets.manifest - before, `${fault}: manifest reads`).toBe(1);
    }
    bucket.faults.clear();
  });
});

describe('a warm isolate', () => {
  for (const target of ['manifest', 'model'] as const) {
    for (const fault of ['throw', 'null', 'break', 'stall'] as const) {
      it(`${target} ${fault} on a re-check: keeps serving its model, without waiting on storage`, async () => {
        await resetRegistry();
        bucket.faults.clear();
        const warm = await predict();
        expect(warm.status).toBe(200);
        bucket.faults.set(target, fault);
        // The manifest TTL is 0: every request re-checks. For the model's objects to be read at all, the
        // re-check must find a different model: the same one under a new version (a new manifest sha).
        if (target === 'model') await env.MODELS.put(MANIFEST_KEY, JSON.stringify({ ...JSON.parse(await (await env.MODELS.get(MANIFEST_KEY))!.text()), sha256: '0'.repeat(64) }));
        for (let i = 0; i < 3; i++) {
          // A 3 s storage timeout: a request that waited on the stalled re-check would take at least that long.
          const served = await predict({ STORAGE_TIMEOUT_SECONDS: '3' });
          expect([served.status, served.model?.sha256]).toEqual([200, warm.model?.sha256]);
          expect(served.ms).toBeLessThan(2_000);
        }
        bucket.faults.clear();
        await publishTestModel();
      });
    }
  }
});
