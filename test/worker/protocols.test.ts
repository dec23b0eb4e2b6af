/** The Open Inference Protocol (KServe V2 REST) and the Workers AI-compatible route, inside workerd. */
import { SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/manifest.js';
import { decodeImage } from '../../src/core/image/decode.js';
import { preprocessImage } from '../../src/core/preprocess.js';
import { PredictionSchema, WorkersAiEnvelopeSchema } from '../../src/http/schemas.js';
import { V2ErrorSchema, V2InferResponseSchema, V2ModelMetadataSchema, V2ServerMetadataSchema } from '../../src/v2/schemas.js';
import { fetchFixture, publishTestModel } from './helpers.js';
import { conformsToV2Spec } from './v2-spec.js';

let manifest: Manifest;
let jpeg: Uint8Array;
let png: Uint8Array;
/** /predict's scores for circle.jpg, by label index: the reference every protocol must reproduce. */
let reference: number[];

const base64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
/** SELF.fetch, and every V2 answer (any path under /v2) checked against the protocol's spec before a test sees it. */
async function fetchChecked(url: string, init?: RequestInit): Promise<Response> {
  const res = await SELF.fetch(url, init);
  const path = new URL(url).pathname;
  if (path === '/v2' || path.startsWith('/v2/')) await conformsToV2Spec(init?.method ?? 'GET', path, res);
  return res;
}
const postJson = (path: string, body: unknown) => fetchChecked(`http://worker${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const imageInput = (bytes: Uint8Array) => ({ name: 'image', shape: [1], datatype: 'BYTES', data: [base64(bytes)] });

beforeAll(async () => {
  manifest = await publishTestModel();
  jpeg = await fetchFixture('fixtures/circle.jpg');
  png = await fetchFixture('fixtures/star.png');
  const res = await SELF.fetch(`http://worker/predict?top=${manifest.labels.length}`, { method: 'POST', body: jpeg });
  const prediction = PredictionSchema.parse(await res.json());
  reference = [];
  for (const { index, score } of prediction.top) reference[index] = score;
});

async function expectV2Error(res: Response, status: number): Promise<string> {
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(Object.keys(body as object)).toEqual(['error']);
  return V2ErrorSchema.parse(body).error;
}

describe('Open Inference Protocol (KServe V2)', () => {
  it('answers health, server and model metadata in the protocol shapes', async () => {
    expect(await (await fetchChecked('http://worker/v2/health/live')).json()).toEqual({ live: true });
    const ready = await fetchChecked('http://worker/v2/health/ready');
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
    const server = V2ServerMetadataSchema.parse(await (await fetchChecked('http://worker/v2')).json());
    expect(server.name).toBe('edge-resnet');
    const meta = V2ModelMetadataSchema.parse(await (await fetchChecked(`http://worker/v2/models/${manifest.name}`)).json());
    expect(meta).toEqual({
      name: manifest.name,
      versions: [manifest.version],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'image', datatype: 'BYTES', shape: [-1] },
        { name: manifest.input.name, datatype: 'FP32', shape: [-1, ...manifest.input.shape.slice(1)] },
      ],
      outputs: [
        { name: manifest.output.name, datatype: 'FP32', shape: [-1, manifest.labels.length] },
        { name: 'labels', datatype: 'BYTES', shape: [-1, manifest.labels.length] },
      ],
    });
    expect(await (await fetchChecked(`http://worker/v2/models/${manifest.name}/ready`)).json()).toEqual({ name: manifest.name, ready: true });
  });

  it('infers from an image sent as BYTES (base64), with the same probabilities as /predict', async () => {
    const res = await postJson(`/v2/models/${manifest.name}/infer`, { id: 'req-1', inputs: [imageInput(jpeg)] });
    expect(res.status).toBe(200);
    const body = V2InferResponseSchema.parse(await res.json());
    expect(body.model_name).toBe(manifest.name);
    expect(body.model_version).toBe(manifest.version);
    expect(body.id).toBe('req-1');
    const [probabilities, labels] = body.outputs;
    expect(probabilities).toMatchObject({ name: manifest.output.name, datatype: 'FP32', shape: [1, manifest.labels.length] });
    expect(labels).toEqual({ name: 'labels', datatype: 'BYTES', shape: [1, manifest.labels.length], data: manifest.labels });
    probabilities!.data.forEach((p, i) => expect(Math.abs((p as number) - reference[i]!)).toBeLessThan(1e-6));
  });

  it('infers from the model input tensor (FP32, nested or flat) exactly as from the image it came from', async () => {
    const tensor = preprocessImage(decodeImage(jpeg, { maxPixels: 4_000_000 }), manifest.preprocess);
    const [, c, h, w] = manifest.input.shape;
    const nested = [Array.from({ length: c }, (_, ci) => Array.from({ length: h }, (_, y) => Array.from(tensor.subarray(ci * h * w + y * w, ci * h * w + (y + 1) * w))))];
    for (const data of [Array.from(tensor), nested]) {
      const res = await postJson(`/v2/models/${manifest.name}/infer`, { inputs: [{ name: manifest.input.name, shape: manifest.input.shape, datatype: 'FP32', data }] });
      expect(res.status).toBe(200);
      const body = V2InferResponseSchema.parse(await res.json());
      body.outputs[0]!.data.forEach((p, i) => expect(Math.abs((p as number) - reference[i]!)).toBeLessThan(1e-5));
    }
  });

  it("the spec check itself fails answers the protocol does not allow (its negative control)", async () => {
    const answer = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
    const meta = { name: 'm', platform: 'onnxruntime_onnx', inputs: [{ name: 'image', datatype: 'BYTES', shape: [-1] }], outputs: [] };
    await expect(conformsToV2Spec('GET', '/v2/models/m', answer(meta))).resolves.toEqual(meta);
    await expect(conformsToV2Spec('GET', '/v2/models/m', answer({ ...meta, platform: undefined }))).rejects.toThrow(/platform/);
    await expect(conformsToV2Spec('GET', '/v2/models/m', answer({ ...meta, inputs: [{ name: 'image', datatype: 'STRING', shape: [1] }] }))).rejects.toThrow(/datatype/);
    await expect(conformsToV2Spec('POST', '/v2/models/m/infer', answer({ model_name: 'm', outputs: [{ name: 'p', shape: [1], datatype: 'FP32' }] }))).rejects.toThrow(/data/);
    await expect(conformsToV2Spec('POST', '/v2/models/m/infer', answer({ model_name: 'm', outputs: [], extra: 1 }))).rejects.toThrow(/extra/);
    await expect(conformsToV2Spec('GET', '/v2/models/m', answer({ error: { code: 'x', message: 'y' } }, 404))).rejects.toThrow(/error/);
  });

  it('answers every model route under /versions/{version} the same, and 404 for another version', async () => {
    const versioned = `/v2/models/${manifest.name}/versions/${manifest.version}`;
    expect(await (await fetchChecked(`http://worker${versioned}`)).json()).toEqual(await (await fetchChecked(`http://worker/v2/models/${manifest.name}`)).json());
    expect(await (await fetchChecked(`http://worker${versioned}/ready`)).json()).toEqual({ name: manifest.name, ready: true });
    const res = await postJson(`${versioned}/infer`, { inputs: [imageInput(jpeg)] });
    expect(res.status).toBe(200);
    const body = V2InferResponseSchema.parse(await res.json());
    expect(body.model_version).toBe(manifest.version);
    body.outputs[0]!.data.forEach((p, i) => expect(Math.abs((p as number) - reference[i]!)).toBeLessThan(1e-6));
    const other = `/v2/models/${manifest.name}/versions/0.0.0-not-served`;
    for (const [method, path] of [['GET', other], ['GET', `${other}/ready`], ['POST', `${other}/infer`]] as const) {
      const r = method === 'GET' ? await fetchChecked(`http://worker${path}`) : await postJson(path, { inputs: [imageInput(jpeg)] });
      expect(await expectV2Error(r, 404), path).toMatch(/0\.0\.0-not-served/);
    }
  });

  it('infers a batch: BYTES [N] and FP32 [N, 3, H, W], each row equal to its single-image answer', async () => {
    const single = async (bytes: Uint8Array) => V2InferResponseSchema.parse(await (await postJson(`/v2/models/${manifest.name}/infer`, { inputs: [imageInput(bytes)] })).json()).outputs[0]!.data;
    const [a, b] = [await single(jpeg), await single(png)];
    const n = manifest.labels.length;
    const res = await postJson(`/v2/models/${manifest.name}/infer`, { inputs: [{ name: 'image', shape: [3], datatype: 'BYTES', data: [base64(jpeg), base64(png), base64(jpeg)] }] });
    expect(res.status).toBe(200);
    const [probabilities, labels] = V2InferResponseSchema.parse(await res.json()).outputs;
    expect(probabilities!.shape).toEqual([3, n]);
    expect(probabilities!.data).toEqual([...a, ...b, ...a]);
    expect(labels).toEqual({ name: 'labels', datatype: 'BYTES', shape: [3, n], data: [...manifest.labels, ...manifest.labels, ...manifest.labels] });
    const tensor = (bytes: Uint8Array) => Array.from(preprocessImage(decodeImage(bytes, { maxPixels: 4_000_000 }), manifest.preprocess));
    const rows = await postJson(`/v2/models/${manifest.name}/infer`, { inputs: [{ name: manifest.input.name, shape: [2, ...manifest.input.shape.slice(1)], datatype: 'FP32', data: [...tensor(png), ...tensor(jpeg)] }] });
    const out = V2InferResponseSchema.parse(await rows.json()).outputs[0]!;
    expect(out.shape).toEqual([2, n]);
    out.data.forEach((p, i) => expect(Math.abs((p as number) - ([...b, ...a][i] as number))).toBeLessThan(1e-5));
  });

  it('refuses a batch over MAX_BATCH (8) and names the bad element of a batch', async () => {
    const infer = `/v2/models/${manifest.name}/infer`;
    const nine = Array.from({ length: 9 }, () => base64(png));
    expect(await expectV2Error(await postJson(infer, { inputs: [{ name: 'image', shape: [9], datatype: 'BYTES', data: nine }] }), 400)).toMatch(/MAX_BATCH/);
    const gif = base64(new TextEncoder().encode('GIF89a not supported'));
    expect(await expectV2Error(await postJson(infer, { inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data: [base64(png), gif] }] }), 415)).toMatch(/^element 1 of 2: /);
    expect(await expectV2Error(await postJson(infer, { inputs: [{ name: 'image', shape: [3], datatype: 'BYTES', data: [base64(png)] }] }), 400)).toMatch(/3/);
  });

  it('returns only the outputs asked for', async () => {
    const res = await postJson(`/v2/models/${manifest.name}/infer`, { inputs: [imageInput(png)], outputs: [{ name: 'labels' }] });
    const body = V2InferResponseSchema.parse(await res.json());
    expect(body.outputs.map((o) => o.name)).toEqual(['labels']);
  });

  it('answers every bad request in the protocol error form with the right status', async () => {
    const infer = `/v2/models/${manifest.name}/infer`;
    const shape = manifest.input.shape;
    expect(await expectV2Error(await postJson(infer, '{"inputs": ['), 400)).toMatch(/json/i);
    expect(await expectV2Error(await postJson(infer, { inputs: [] }), 400)).toMatch(/inputs/);
    expect(await expectV2Error(await postJson(infer, { inputs: [{ name: 'image', shape: [1], datatype: 'FP32', data: [1] }] }), 400)).toMatch(/BYTES/);
    expect(await expectV2Error(await postJson(infer, { inputs: [{ ...imageInput(jpeg), data: ['%%% not base64'] }] }), 400)).toMatch(/base64/);
    expect(await expectV2Error(await postJson(infer, { inputs: [{ name: manifest.input.name, shape: [1, 3, 7, 7], datatype: 'FP32', data: [0] }] }), 400)).toMatch(/shape/);
    expect(await expectV2Error(await postJson(infer, { inputs: [{ name: manifest.input.name, shape, datatype: 'FP32', data: [1, 2, 3] }] }), 400)).toMatch(/values/);
    expect(await expectV2Error(await postJson(infer, { inputs: [{ name: 'pixels', shape: [1], datatype: 'BYTES', data: ['AA=='] }] }), 400)).toMatch(/unknown input/);
    expect(await expectV2Error(await postJson(infer, { inputs: [imageInput(jpeg)], outputs: [{ name: 'logits' }] }), 400)).toMatch(/unknown output/);
    expect(await expectV2Error(await postJson(infer, { inputs: [imageInput(new TextEncoder().encode('GIF89a not supported'))] }), 415)).toMatch(/JPEG|PNG/);
    expect(await expectV2Error(await postJson(infer, { inputs: [imageInput(jpeg.subarray(0, 200))] }), 422)).toBeTruthy();
    expect(await expectV2Error(await postJson('/v2/models/no-such-model/infer', { inputs: [imageInput(jpeg)] }), 404)).toMatch(/no-such-model/);
    expect(await expectV2Error(await fetchChecked('http://worker/v2/models/no-such-model'), 404)).toMatch(/no-such-model/);
    const huge = await fetchChecked(`http://worker${infer}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'content-length': String(64 * 2 ** 20) } });
    expect(await expectV2Error(huge, 413)).toMatch(/limit/);
    // …and the server still answers the next good request.
    expect((await postJson(infer, { inputs: [imageInput(jpeg)] })).status).toBe(200);
  });
});

describe('Workers AI-compatible route', () => {
  const path = 'http://worker/ai/run/@cf/microsoft/resnet-50';

  it('takes raw bytes and answers the REST envelope with the five best {label, score}', async () => {
    const res = await SELF.fetch(path, { method: 'POST', body: jpeg });
    expect(res.status).toBe(200);
    const body = WorkersAiEnvelopeSchema.parse(await res.json());
    expect(body.success).toBe(true);
    expect(body.result).toHaveLength(Math.min(5, manifest.labels.length));
    for (const { label, score } of body.result) expect(Math.abs(score - reference[manifest.labels.indexOf(label)]!)).toBeLessThan(1e-6);
    for (let i = 1; i < body.result.length; i++) expect(body.result[i]!.score).toBeLessThanOrEqual(body.result[i - 1]!.score);
  });

  it('takes the binding form {"image": [bytes]} too', async () => {
    const raw = WorkersAiEnvelopeSchema.parse(await (await SELF.fetch(path, { method: 'POST', body: png })).json());
    const json = WorkersAiEnvelopeSchema.parse(await (await postJson('/ai/run/@cf/microsoft/resnet-50', { image: Array.from(png) })).json());
    expect(json.result).toEqual(raw.result);
  });

  it("answers on Workers AI's REST paths (the cloudflare SDK's model segment percent-encoded) as on the short one", async () => {
    const short = WorkersAiEnvelopeSchema.parse(await (await SELF.fetch(path, { method: 'POST', body: jpeg })).json());
    const paths = [
      '/accounts/023e105f4ecef8ad9ca31a8372d0c353/ai/run/@cf/microsoft/resnet-50',
      '/client/v4/accounts/acct/ai/run/@cf/microsoft/resnet-50',
      '/client/v4/accounts/acct/ai/run/@cf%2Fmicrosoft%2Fresnet-50',
      '/accounts/acct/ai/run/%40cf%2Fmicrosoft%2Fresnet-50',
    ];
    for (const p of paths) {
      const raw = await SELF.fetch(`http://worker${p}`, { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg' } });
      expect(raw.status, p).toBe(200);
      expect(WorkersAiEnvelopeSchema.parse(await raw.json()).result, p).toEqual(short.result);
      const json = await postJson(p, { image: Array.from(jpeg) });
      expect(WorkersAiEnvelopeSchema.parse(await json.json()).result, p).toEqual(short.result);
    }
  });

  it('refuses another model name on a run path with 404 model_not_found in the envelope', async () => {
    for (const p of ['/accounts/acct/ai/run/@cf/meta/llama-3-8b-instruct', '/client/v4/accounts/acct/ai/run/@cf%2Fmicrosoft%2Fresnet-101', '/ai/run/@cf/microsoft/resnet-5']) {
      const res = await SELF.fetch(`http://worker${p}`, { method: 'POST', body: jpeg });
      expect(res.status, p).toBe(404);
      expect(await res.json(), p).toEqual({ result: null, success: false, errors: [{ code: 'model_not_found', message: expect.stringContaining('@cf/microsoft/resnet-50') }], messages: [] });
    }
  });

  it('answers errors in the envelope with success false', async () => {
    const empty = await SELF.fetch(path, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ result: null, success: false, errors: [{ code: 'missing_image', message: expect.any(String) }], messages: [] });
    const gif = await SELF.fetch(path, { method: 'POST', body: new TextEncoder().encode('GIF89a') });
    expect(gif.status).toBe(415);
    expect(((await gif.json()) as { success: boolean }).success).toBe(false);
  });
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and documents every API route', async () => {
    const docRes = await SELF.fetch('http://worker/openapi.json');
    const doc = (await docRes.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(docRes.status, JSON.stringify(doc).slice(0, 500)).toBe(200);
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes.sort()).toEqual(
      [
        'POST /predict',
        'GET /healthz',
        'GET /readyz',
        'GET /v1/models',
        'GET /v1/examples',
        'GET /v1/examples/{sha256}',
        'GET /v2',
        'GET /v2/health/live',
        'GET /v2/health/ready',
        'GET /v2/models/{name}',
        'GET /v2/models/{name}/ready',
        'POST /v2/models/{name}/infer',
        'GET /v2/models/{name}/versions/{version}',
        'GET /v2/models/{name}/versions/{version}/ready',
        'POST /v2/models/{name}/versions/{version}/infer',
        'POST /ai/run/@cf/microsoft/resnet-50',
        'POST /accounts/{account_id}/ai/run/@cf/microsoft/resnet-50',
        'POST /client/v4/accounts/{account_id}/ai/run/@cf/microsoft/resnet-50',
        'POST /v1/jobs',
        'GET /v1/jobs/{id}',
        'DELETE /v1/jobs/{id}',
        'GET /v1/jobs/{id}/results',
      ].sort(),
    );
  });
});
