/** GET /v1/examples: the served model's example images, listed from its manifest and verified like the model. */
import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { exampleKey, MANIFEST_KEY } from '../../src/core/manifest.js';
import { ExamplesSchema, PredictionSchema } from '../../src/http/schemas.js';
import { fetchTestModel, publishTestModel, type TestModel } from './helpers.js';

let model: TestModel;

beforeAll(async () => {
  model = await fetchTestModel();
  await publishTestModel(model);
});

describe('example images', () => {
  it('the build wrote one per label, and the list names each with its label', async () => {
    const examples = model.manifest.examples ?? [];
    expect(examples.map((e) => e.label).sort()).toEqual([...model.manifest.labels].sort());
    const res = await SELF.fetch('http://worker/v1/examples');
    expect(res.status).toBe(200);
    const body = ExamplesSchema.parse(await res.json());
    expect(body.model.sha256).toBe(model.manifest.sha256);
    expect(body.labels).toEqual(model.manifest.labels);
    expect(body.examples.map((e) => e.url)).toEqual(examples.map((e) => `/v1/examples/${e.sha256}`));
  });

  it('serves each image as published (immutable), and /predict classifies it', async () => {
    for (const e of model.manifest.examples!) {
      const res = await SELF.fetch(`http://worker/v1/examples/${e.sha256}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(e.file.endsWith('.png') ? 'image/png' : 'image/jpeg');
      expect(res.headers.get('cache-control')).toMatch(/immutable/);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(bytes).toEqual(model.examples.get(e.file));
      const predicted = await SELF.fetch('http://worker/predict', { method: 'POST', body: bytes });
      expect(predicted.status).toBe(200);
      expect(model.manifest.labels).toContain(PredictionSchema.parse(await predicted.json()).label);
    }
  });

  it('404 for a hash the manifest does not name, 400 for one that is not a hash, 503 for a tampered object', async () => {
    const unknown = await SELF.fetch(`http://worker/v1/examples/${'0'.repeat(64)}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await SELF.fetch('http://worker/v1/examples/..%2Fmanifest.json')).status).toBe(400);
    const first = model.manifest.examples![0]!;
    const original = model.examples.get(first.file)!;
    const tampered = Uint8Array.from(original);
    tampered[tampered.length >> 1]! ^= 0xff;
    await env.MODELS.put(exampleKey(first), tampered);
    try {
      const res = await SELF.fetch(`http://worker/v1/examples/${first.sha256}`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'model_integrity_failed' } });
    } finally {
      await env.MODELS.put(exampleKey(first), original);
    }
  });

  it('an empty list for a manifest without examples (older builds)', async () => {
    const { examples: _examples, ...older } = model.manifest;
    await env.MODELS.put(MANIFEST_KEY, JSON.stringify(older));
    try {
      const body = ExamplesSchema.parse(await (await SELF.fetch('http://worker/v1/examples')).json());
      expect(body.examples).toEqual([]);
    } finally {
      await env.MODELS.put(MANIFEST_KEY, JSON.stringify(model.manifest));
    }
  });
});
