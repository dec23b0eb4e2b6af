/** API key (the API_KEY secret) on inference routes, and CORS from CORS_ORIGINS, inside workerd. */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../src/app.js';
import { keysMatch } from '../../src/http/auth.js';
import type { Manifest } from '../../src/core/manifest.js';
import { fetchFixture, publishTestModel } from './helpers.js';

let manifest: Manifest;
let jpeg: Uint8Array;
const KEY = 'k3y-for-tests-0123456789';
const withVars = (vars: Record<string, string>) => ({ ...env, ...vars });

beforeAll(async () => {
  manifest = await publishTestModel();
  jpeg = await fetchFixture('fixtures/circle.jpg');
});

describe('API key', () => {
  const keyed = withVars({ API_KEY: KEY });
  const post = (path: string, headers: Record<string, string> = {}, body: BodyInit = jpeg) => app.request(path, { method: 'POST', body, headers }, keyed);
  const infer = (headers: Record<string, string> = {}) =>
    post(`/v2/models/${manifest.name}/infer`, { 'content-type': 'application/json', ...headers }, JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [btoa(String.fromCharCode(...jpeg))] }] }));

  // Only the outcome is tested here: the timing property comes from comparing fixed-size digests with
  // crypto.subtle.timingSafeEqual (src/http/auth.ts), which a unit test cannot measure reliably.
  it('matches keys through their SHA-256 digests: equal only when equal, whatever the lengths', async () => {
    expect(await keysMatch(KEY, KEY)).toBe(true);
    expect(await keysMatch(`${KEY}x`, KEY)).toBe(false);
    expect(await keysMatch(`${KEY.slice(0, -1)}${KEY.at(-1) === 'a' ? 'b' : 'a'}`, KEY)).toBe(false);
    expect(await keysMatch('', KEY)).toBe(false);
  });

  it('when set, /predict needs "Authorization: Bearer <key>" (401 JSON otherwise)', async () => {
    const none = await post('/predict');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('API key') } });
    const wrong = await post('/predict', { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).not.toContain(KEY);
    expect((await post('/predict', { authorization: `Bearer ${KEY}` })).status).toBe(200);
  });

  it('guards the V2 infer and Workers AI routes too, each in its protocol error form', async () => {
    const v2 = await infer();
    expect(v2.status).toBe(401);
    expect(await v2.json()).toEqual({ error: expect.any(String) });
    expect((await infer({ authorization: `Bearer ${KEY}` })).status).toBe(200);
    const ai = await post('/ai/run/@cf/microsoft/resnet-50');
    expect(ai.status).toBe(401);
    expect(await ai.json()).toMatchObject({ success: false, errors: [{ code: 'unauthorized' }] });
    expect((await post('/ai/run/@cf/microsoft/resnet-50', { authorization: `Bearer ${KEY}` })).status).toBe(200);
    // The REST path as the cloudflare SDK calls it: its API token is the Bearer key.
    const rest = '/client/v4/accounts/acct/ai/run/@cf%2Fmicrosoft%2Fresnet-50';
    expect((await post(rest)).status).toBe(401);
    expect((await post(rest, { authorization: 'Bearer not-the-key' })).status).toBe(401);
    expect((await post(rest, { authorization: `Bearer ${KEY}` })).status).toBe(200);
  });

  it('leaves health, metadata and the document open', async () => {
    for (const path of ['/healthz', '/readyz', '/v1/models', '/v2/health/ready', `/v2/models/${manifest.name}`, '/openapi.json']) {
      expect((await app.request(path, {}, keyed)).status, path).toBe(200);
    }
  });

  it('is off when the secret is not set', async () => {
    expect((await app.request('/predict', { method: 'POST', body: jpeg }, withVars({}))).status).toBe(200);
  });
});

describe('CORS', () => {
  const preflight = (vars: Record<string, string>, origin: string) =>
    app.request('/predict', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } }, withVars(vars));

  it('sends no CORS headers by default', async () => {
    const res = await app.request('/predict', { method: 'POST', body: jpeg, headers: { origin: 'https://app.example' } }, withVars({}));
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows the listed origins only, preflight included', async () => {
    const vars = { CORS_ORIGINS: 'https://app.example, https://other.example' };
    const ok = await preflight(vars, 'https://app.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect((await preflight(vars, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const res = await app.request('/predict', { method: 'POST', body: jpeg, headers: { origin: 'https://other.example' } }, withVars(vars));
    expect(res.headers.get('access-control-allow-origin')).toBe('https://other.example');
    expect(res.headers.get('access-control-expose-headers')).toContain('Server-Timing');
  });

  it('"*" allows any origin', async () => {
    expect((await preflight({ CORS_ORIGINS: '*' }, 'https://any.example')).headers.get('access-control-allow-origin')).toBe('*');
  });
});
