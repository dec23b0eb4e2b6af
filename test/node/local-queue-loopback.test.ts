/**
 * `npm start`'s local queue must not stall. Miniflare's queue broker logs every consumer call over its loopback
 * HTTP server and does not catch a failed log: when the log fails, the broker never dispatches again. Node's
 * default keepAliveTimeout (5 s) closes an idle pooled socket just as workerd reuses it, so a job whose consumer
 * calls last about 5 s (224 px models) stalled after a few calls (cloudflare/workers-sdk#14848, fixed upstream in
 * miniflare 4.20260730.0, which needs Node 22). patches/miniflare+*.patch applies that fix to the pinned version;
 * this checks it the way upstream's regression test does: a keep-alive socket to the loopback server stays open
 * past Node's default timeout.
 */
import { connect } from 'node:net';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NODE_DEFAULT_KEEP_ALIVE_MS = 5000;
let mf: Miniflare;
let loopbackPort: number;

beforeAll(async () => {
  // The only public trace of the loopback port: the live-reload script Miniflare adds to HTML responses.
  mf = new Miniflare({
    modules: true,
    liveReload: true,
    script: 'export default { fetch: () => new Response("<html><body></body></html>", { headers: { "content-type": "text/html" } }) }',
  });
  const html = await (await mf.dispatchFetch('http://localhost/')).text();
  const port = /url\.port = (\d+);/.exec(html)?.[1];
  if (!port) throw new Error(`Miniflare's live-reload script no longer names the loopback port: ${html.slice(0, 300)}`);
  loopbackPort = Number(port);
});

afterAll(async () => {
  await mf?.dispose();
});

describe("Miniflare's loopback server (local queues, R2 and logs)", () => {
  it('keeps an idle keep-alive connection open past Node’s default 5 s', async () => {
    const socket = connect(loopbackPort, '127.0.0.1');
    let closedAfterMs: number | null = null;
    let response = '';
    const opened = Date.now();
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('end', () => (closedAfterMs ??= Date.now() - opened)); // the server's FIN
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write('GET /no-such-route HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, NODE_DEFAULT_KEEP_ALIVE_MS + 1500));
    const closedByServerAfterMs = closedAfterMs;
    socket.destroy();
    expect(response).toMatch(/^HTTP\/1\.1 \d{3}/); // the server answered, and the socket was then idle
    expect(closedByServerAfterMs, 'the loopback server closed an idle keep-alive socket: is patches/miniflare+*.patch applied (npm ci runs patch-package)?').toBeNull();
  }, 30_000);
});
