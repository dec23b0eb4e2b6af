/**
 * End to end: starts the real server the way `npm start` does (seed local R2, wrangler dev on 127.0.0.1) and
 * posts multipart and raw bodies over HTTP.
 */
import { readFile } from 'node:fs/promises';
import Cloudflare from 'cloudflare';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { photoJpeg } from '../../bench/lib/photo.js';
import { startWorker, type RunningWorker } from '../../bench/lib/worker-server.js';

let worker: RunningWorker;
let base: string;

beforeAll(async () => {
  worker = await startWorker(inject('testModelDir'));
  base = worker.base;
});

afterAll(async () => {
  await worker?.stop();
});

describe('npm start', () => {
  it('serves /predict over HTTP: multipart field "image" and raw bytes agree', async () => {
    const dir = inject('testModelDir');
    const jpeg = await readFile(join(dir, 'fixtures', 'circle.jpg'));
    const form = new FormData();
    form.set('image', new Blob([jpeg], { type: 'image/jpeg' }), 'circle.jpg');
    const multipart = await fetch(`${base}/predict`, { method: 'POST', body: form });
    expect(multipart.status).toBe(200);
    const a = (await multipart.json()) as { class: number; top: unknown[]; model: { sha256: string } };
    const raw = await fetch(`${base}/predict?top=3`, { method: 'POST', body: jpeg, headers: { 'content-type': 'application/octet-stream' } });
    expect(raw.status).toBe(200);
    const b = (await raw.json()) as { class: number; top: unknown[]; model: { sha256: string } };
    expect(b.class).toBe(a.class);
    expect(a.top).toHaveLength(5);
    expect(b.top).toHaveLength(3);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { sha256: string };
    expect(a.model.sha256).toBe(manifest.sha256);
  });

  it('classifies a 4000×3000 (12 MP) JPEG with the shipped limits', async () => {
    const photo = await photoJpeg(4000, 3000, 85);
    const res = await fetch(`${base}/predict`, { method: 'POST', body: photo, headers: { 'content-type': 'image/jpeg' } });
    const body = (await res.json()) as { label: string; confidence: number; top: unknown[] };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.top).toHaveLength(5);
    expect(body.confidence).toBeGreaterThan(0);
  });

  it("answers Cloudflare's official SDK (client.ai.run) pointed at it by baseURL, as Workers AI would", async () => {
    const jpeg = await readFile(join(inject('testModelDir'), 'fixtures', 'circle.jpg'));
    const client = new Cloudflare({ apiToken: 'any-token-when-API_KEY-is-unset', baseURL: `${base}/client/v4`, maxRetries: 0 });
    const result = (await client.ai.run('@cf/microsoft/resnet-50', { account_id: 'acct', image: [...jpeg] })) as Array<{ label: string; score: number }>;
    const rest = (await (await fetch(`${base}/ai/run/@cf/microsoft/resnet-50`, { method: 'POST', body: jpeg })).json()) as { result: unknown };
    expect(result).toHaveLength(5);
    expect(result).toEqual(rest.result);
    // An error reaches the SDK as its own typed error, with our code in the envelope.
    const bad = await client.ai.run('@cf/microsoft/resnet-50', { account_id: 'acct', image: [0x47, 0x49, 0x46] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Cloudflare.APIError);
    expect((bad as InstanceType<typeof Cloudflare.APIError>).status).toBe(415);
    expect((bad as InstanceType<typeof Cloudflare.APIError>).errors).toEqual([{ code: 'unsupported_format', message: expect.any(String) }]);
  });

  it('answers bad input with a JSON 4xx, then serves the next request', async () => {
    const bad = await fetch(`${base}/predict`, { method: 'POST', body: 'not an image' });
    expect(bad.status).toBe(415);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('unsupported_format');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
