import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/manifest.js';
import { BatchPredictionSchema, PredictionSchema } from '../../src/http/schemas.js';
import { fetchFixture, publishTestModel } from './helpers.js';

let manifest: Manifest;
let jpeg: Uint8Array;
let png: Uint8Array;

beforeAll(async () => {
  manifest = await publishTestModel();
  jpeg = await fetchFixture('fixtures/circle.jpg');
  png = await fetchFixture('fixtures/star.png');
});

function expectPredictionContract(body: any, k: number) {
  PredictionSchema.parse(body); // the documented schema (OpenAPI) is the one the answers follow
  expect(Object.keys(body).sort()).toEqual(['class', 'confidence', 'label', 'model', 'timing', 'top']);
  expect(Number.isInteger(body.class)).toBe(true);
  expect(body.label).toBe(manifest.labels[body.class]);
  expect(body.confidence).toBeGreaterThan(0);
  expect(body.confidence).toBeLessThanOrEqual(1);
  expect(body.top).toHaveLength(k);
  expect(body.top[0]).toEqual({ index: body.class, label: body.label, score: body.confidence });
  for (let i = 1; i < body.top.length; i++) expect(body.top[i].score).toBeLessThanOrEqual(body.top[i - 1].score);
  expect(body.model).toEqual({ name: manifest.name, version: manifest.version, sha256: manifest.sha256 });
  expect(Object.keys(body.timing).sort()).toEqual(['decode_ms', 'inference_ms', 'preprocess_ms', 'total_ms']);
}

describe('POST /predict', () => {
  it('classifies a multipart upload (field "image") with real ORT inference', async () => {
    const form = new FormData();
    form.set('image', new File([jpeg], 'circle.jpg', { type: 'image/jpeg' }));
    const res = await SELF.fetch('http://worker/predict', { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(res.headers.get('server-timing')).toMatch(/^decode;dur=[\d.]+, preprocess;dur=[\d.]+, inference;dur=[\d.]+, total;dur=[\d.]+$/);
    expectPredictionContract(await res.json(), 5);
  });

  it('classifies raw bytes whatever the content type says (format from magic bytes)', async () => {
    const res = await SELF.fetch('http://worker/predict?top=2', { method: 'POST', body: png, headers: { 'content-type': 'image/jpeg' } });
    expect(res.status).toBe(200);
    expectPredictionContract(await res.json(), 2);
  });

  it('gives the scores the pipeline computes for the same file: its wasm engine exactly, native fp32 within int8 error', async () => {
    const expected = JSON.parse(new TextDecoder().decode(await fetchFixture('fixtures/expected.json'))) as Record<string, { int8: number[]; fp32: number[] }>;
    for (const [name, bytes] of [['circle.jpg', jpeg], ['star.png', png]] as const) {
      const res = await SELF.fetch('http://worker/predict?top=5', { method: 'POST', body: bytes });
      const body = (await res.json()) as { top: Array<{ index: number; score: number }> };
      expect(body.top).toHaveLength(expected[name]!.int8.length);
      for (const { index, score } of body.top) {
        // Same wasm binary, same session options, same tensor: only float rounding of the output may differ.
        expect(Math.abs(score - expected[name]!.int8[index]!), name).toBeLessThan(1e-5);
        // onnxruntime-node on the fp32 file: an independent engine; int8 on this barely trained model is within 0.05.
        expect(Math.abs(score - expected[name]!.fp32[index]!), name).toBeLessThan(0.05);
      }
    }
  });

  it('classifies a batch (repeated "image" fields) image by image as single calls do, bad images answered in place', async () => {
    const single = async (bytes: Uint8Array) => PredictionSchema.parse(await (await SELF.fetch('http://worker/predict?top=3', { method: 'POST', body: bytes })).json());
    const [a, b] = [await single(jpeg), await single(png)];
    const form = new FormData();
    form.append('image', new File([jpeg], 'a.jpg'));
    form.append('image', new File([new TextEncoder().encode('GIF89a')], 'b.gif'));
    form.append('image', new File([png], 'c.png'));
    form.append('image', new File([], 'empty.jpg'));
    form.append('image', new File([jpeg.subarray(0, 300)], 'cut.jpg'));
    const res = await SELF.fetch('http://worker/predict?top=3', { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const answers = BatchPredictionSchema.parse(await res.json());
    expect(answers).toHaveLength(5);
    const strip = (p: unknown) => ({ ...(p as Record<string, unknown>), timing: undefined });
    expect(strip(answers[0])).toEqual(strip(a));
    expect(answers[1]).toEqual({ error: { code: 'unsupported_format', message: expect.any(String) }, status: 415 });
    expect(strip(answers[2])).toEqual(strip(b));
    expect(answers[3]).toEqual({ error: { code: 'missing_image', message: expect.any(String) }, status: 400 });
    expect(answers[4]).toMatchObject({ status: 422 });
  });

  it('refuses a batch over MAX_BATCH with 400 batch_too_large', async () => {
    const form = new FormData();
    for (let i = 0; i < 9; i++) form.append('image', new File([png], `${i}.png`));
    const res = await SELF.fetch('http://worker/predict', { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'batch_too_large', message: expect.stringContaining('MAX_BATCH') } });
  });

  it('answers concurrent first requests with one session', async () => {
    const { resetRegistry } = await import('../../src/model/registry.js');
    await resetRegistry();
    const responses = await Promise.all(Array.from({ length: 4 }, () => SELF.fetch('http://worker/predict', { method: 'POST', body: jpeg })));
    expect(responses.map((r: Response) => r.status)).toEqual([200, 200, 200, 200]);
    const memory = (await (await SELF.fetch('http://worker/debug/memory')).json()) as { sessionsCreated: number; wasm_heap_bytes: number; lastLoad: Record<string, number> };
    expect(memory.sessionsCreated).toBe(1);
    expect(memory.wasm_heap_bytes).toBeGreaterThan(16 * 2 ** 20);
    // Where the load went, for the bench's cold-start split.
    expect(Object.keys(memory.lastLoad).sort()).toEqual(['manifest_ms', 'r2_read_ms', 'session_create_ms', 'sha256_ms']);
    for (const ms of Object.values(memory.lastLoad)) expect(ms).toBeGreaterThanOrEqual(0);
  });
});

describe('errors', () => {
  const post = (body: BodyInit | null, headers: Record<string, string> = {}, query = '') => SELF.fetch(`http://worker/predict${query}`, { method: 'POST', body, headers });
  const cases: Array<[string, () => Promise<Response>, number, string]> = [
    ['empty body', () => post(null), 400, 'missing_image'],
    ['multipart without image', () => { const f = new FormData(); f.set('other', 'x'); return post(f); }, 400, 'missing_image'],
    ['broken multipart', () => post('--nope\r\n\r\n', { 'content-type': 'multipart/form-data; boundary=zzz' }), 400, 'invalid_multipart'],
    ['not an image', () => post('hello world, not an image'), 415, 'unsupported_format'],
    ['GIF', () => post(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0])), 415, 'unsupported_format'],
    ['JPEG cut after its headers', () => post(jpeg.slice(0, 300)), 422, 'truncated_image'],
    ['JPEG cut in its last rows', () => post(jpeg.slice(0, jpeg.length - 40)), 422, 'truncated_image'],
    ['JPEG damaged (a segment with a bad length)', () => post(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0, 0, 0, 0])), 422, 'corrupt_image'],
    ['bad top', () => post(jpeg, {}, '?top=zero'), 400, 'invalid_parameter'],
    ['allow_partial other than 0 or 1', () => post(jpeg, {}, '?allow_partial=yes'), 400, 'invalid_parameter'],
    ['allow_partial=1, a JPEG cut before its scan', () => post(jpeg.slice(0, 300), {}, '?allow_partial=1'), 422, 'truncated_image'],
    ['body over the limit', () => post(new Uint8Array(10 * 1024 * 1024 + 1)), 413, 'body_too_large'],
  ];
  for (const [name, send, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(0);
    });
  }

  it('allow_partial=1 classifies a cut image from what it holds and says how much was missing', async () => {
    const cut = jpeg.slice(0, Math.floor(jpeg.length * 0.6));
    expect((await post(cut)).status).toBe(422);
    const res = await post(cut, {}, '?allow_partial=1');
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    PredictionSchema.parse(body);
    expect(body.warnings).toHaveLength(1);
    expect(body.warnings[0]).toMatchObject({ code: 'truncated_image', message: expect.stringContaining('JPEG') });
    expect(body.warnings[0].missing_fraction).toBeGreaterThan(0.1);
    expect(body.warnings[0].missing_fraction).toBeLessThan(0.9);
    // A whole image with the flag has no warnings; in a batch, only the cut image carries one.
    const whole = (await (await post(jpeg, {}, '?allow_partial=1')).json()) as any;
    expect(whole.warnings).toBeUndefined();
    const form = new FormData();
    form.append('image', new File([jpeg], 'a.jpg'));
    form.append('image', new File([cut], 'b.jpg'));
    const batch = (await (await post(form, {}, '?allow_partial=1')).json()) as any[];
    expect(batch.map((a) => a.warnings?.length ?? 0)).toEqual([0, 1]);
  });

  it('a declared size over MAX_IMAGE_PIXELS → 413 before decoding', async () => {
    // A valid PNG header declaring 8000×8000 pixels (64 MP > 50 MP), and nothing else.
    const header = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x1f, 0x40, 0, 0, 0x1f, 0x40, 8, 6, 0, 0, 0, 0, 0, 0, 0]);
    const res = await post(header);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('image_too_large');
  });

  it('a bad request does not harm the next one', async () => {
    await post('garbage');
    const res = await post(jpeg);
    expect(res.status).toBe(200);
  });

  it('unknown routes → 404 JSON', async () => {
    const res = await SELF.fetch('http://worker/nope');
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('not_found');
  });
});

describe('health and models', () => {
  it('/healthz, /readyz and /v1/models', async () => {
    expect(await (await SELF.fetch('http://worker/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await SELF.fetch('http://worker/readyz');
    expect(ready.status).toBe(200);
    const models = (await (await SELF.fetch('http://worker/v1/models')).json()) as any;
    expect(models.models).toHaveLength(1);
    expect(Object.keys(models.models[0]).sort()).toEqual(['endpoints', 'input', 'labels', 'max_batch', 'name', 'preprocess', 'quantization', 'sha256', 'version']);
    expect(models.models[0].labels).toEqual(manifest.labels);
    expect(models.models[0].max_batch).toBe(8);
    // Every endpoint it names answers (the account id is a placeholder the caller fills in).
    const { predict, v2_infer, workers_ai } = models.models[0].endpoints;
    expect((await SELF.fetch(`http://worker${predict}`, { method: 'POST', body: jpeg })).status).toBe(200);
    const v2 = await SELF.fetch(`http://worker${v2_infer}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [btoa(String.fromCharCode(...jpeg))] }] }) });
    expect(v2.status).toBe(200);
    expect((await SELF.fetch(`http://worker${workers_ai.replace('{account_id}', 'acct')}`, { method: 'POST', body: jpeg })).status).toBe(200);
  });

  it('/readyz is 503 with a reason when no model is published', async () => {
    const { resetRegistry } = await import('../../src/model/registry.js');
    await resetRegistry();
    await env.MODELS.delete('manifest.json');
    const res = await SELF.fetch('http://worker/readyz');
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error.code).toBe('model_not_published');
    await publishTestModel();
  });
});
