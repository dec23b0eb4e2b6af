/**
 * End to end: starts the real server the way `npm start` does (seed local R2, wrangler dev on 127.0.0.1) and
 * posts multipart and raw bodies over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

let server: ChildProcess;
let base: string;
let state: string;
let output = '';

beforeAll(async () => {
  const port = await freePort();
  state = await mkdtemp(join(tmpdir(), 'edge-resnet-state-'));
  base = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--port', String(port), '--model-dir', inject('testModelDir'), '--persist-to', state], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  server.stdout!.on('data', (d) => (output += d));
  server.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output.slice(-2000)}`);
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
});

afterAll(async () => {
  if (server?.pid) process.kill(-server.pid, 'SIGINT');
  await new Promise((r) => setTimeout(r, 1000));
  if (server?.pid) try { process.kill(-server.pid, 'SIGKILL'); } catch { /* already gone */ }
  await rm(state, { recursive: true, force: true });
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

  it('answers bad input with a JSON 4xx, then serves the next request', async () => {
    const bad = await fetch(`${base}/predict`, { method: 'POST', body: 'not an image' });
    expect(bad.status).toBe(415);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('unsupported_format');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
