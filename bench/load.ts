/**
 * `npm run load [-- --model-dir model] [--seconds 60] [--window 60] [--connections 20] [--swap [--swap-to model/bench]] [--json FILE]`:
 * starts the Worker as `npm start` does and drives it with autocannon: a rotating mix of valid JPEGs and PNGs of
 * several sizes (multipart and raw) and bad inputs (not an image, truncated, empty, over the pixel limit), each
 * with the status it must get. Reports requests/s and latency, unexpected statuses, and the isolate's memory (JS
 * heap, wasm heap) before and after the run. Exits 1 on any unexpected status.
 *
 * `--window S`: a soak; requests/s, p50/p99 and the isolate's memory (after a GC) every S seconds.
 *
 * `--swap`: a quarter of the way through, publishes the `--swap-to` model into the running Worker's R2 (as `publish` does,
 * with MANIFEST_TTL_SECONDS=1): reports the answers per model, how long after its manifest the new model first
 * answered, and the isolate's memory after the swap beside a fresh isolate's with the new model.
 */
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { seededRandom } from '../training/data/random.js';
import { drawShape, SHAPE_CLASSES } from '../training/data/shapes.js';
import { publishModel } from '../training/commands/publish.js';
import { startWorker, type RunningWorker } from './lib/worker-server.js';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const modelDir = arg('--model-dir', 'model');
const seconds = Number(arg('--seconds', '60'));
const connections = Number(arg('--connections', '20'));
const windowSeconds = Number(arg('--window', String(seconds)));
const swap = process.argv.includes('--swap');
const swapTo = arg('--swap-to', modelDir === 'model' ? 'model/bench' : 'model');

interface Case {
  name: string;
  body: Buffer;
  headers: Record<string, string>;
  status: number;
}

const random = seededRandom(3);
async function shape(size: number, format: 'jpeg' | 'png'): Promise<Buffer> {
  const s = drawShape(SHAPE_CLASSES[random.int(0, SHAPE_CLASSES.length)]!, size, random);
  const image = sharp(Buffer.from(s.rgba), { raw: { width: size, height: size, channels: 4 } });
  return format === 'jpeg' ? image.jpeg({ quality: 85 }).toBuffer() : image.png().toBuffer();
}

function multipart(bytes: Buffer, filename: string): { body: Buffer; headers: Record<string, string> } {
  const boundary = '----edge-resnet-load';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  return { body: Buffer.concat([head, bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const jpeg224 = await shape(224, 'jpeg');
const jpeg640 = await shape(640, 'jpeg');
const png320 = await shape(320, 'png');
const jpeg1400 = await shape(1400, 'jpeg'); // 1.96 MP: just under MAX_IMAGE_PIXELS
const huge = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#888' } }).jpeg().toBuffer();
// A 12 MP PNG decodes at full size (~70 MB): over MAX_DECODE_MB, refused from its header.
const hugePng = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#888' } }).png().toBuffer();
const raw = { 'content-type': 'application/octet-stream' };
const cases: Case[] = [
  { name: 'jpeg 224 raw', body: jpeg224, headers: raw, status: 200 },
  { name: 'jpeg 640 multipart', ...multipart(jpeg640, 'a.jpg'), status: 200 },
  { name: 'png 320 raw', body: png320, headers: raw, status: 200 },
  { name: 'jpeg 1400 raw', body: jpeg1400, headers: raw, status: 200 },
  { name: 'not an image', body: Buffer.from('GIF89a this is not supported'), headers: raw, status: 415 },
  { name: 'truncated jpeg', body: jpeg640.subarray(0, 600), headers: raw, status: 422 },
  { name: 'empty body', body: Buffer.alloc(0), headers: { ...raw, 'content-length': '0' }, status: 400 },
  { name: '9 MP jpeg (decoded at 1/8 scale)', body: huge, headers: raw, status: 200 },
  { name: '12 MP png', body: hugePng, headers: raw, status: 413 },
  { name: 'multipart without image', ...multipart(Buffer.from('x'), 'a.txt'), status: 200 },
];
// The last case is multipart whose "image" is not an image: 415, not 200.
cases[cases.length - 1]!.status = 415;

/** The isolate's memory at rest, after a full GC. */
const memory = async (w: RunningWorker) => (await w.collectGarbage(), { js_heap_mb: +((await w.jsHeap()).used / 2 ** 20).toFixed(1), wasm_heap_mb: +((await w.wasmHeap()) / 2 ** 20).toFixed(1) });
const warmUp = async (w: RunningWorker) => {
  for (const c of cases) await fetch(`${w.base}/predict`, { method: 'POST', body: c.body, headers: c.headers });
};

/** What a fresh isolate with the swapped-in model holds at rest, for comparison. */
let freshSwapped: { js_heap_mb: number; wasm_heap_mb: number } | null = null;
if (swap) {
  const fresh = await startWorker(swapTo);
  try {
    await warmUp(fresh);
    freshSwapped = await memory(fresh);
  } finally {
    await fresh.stop();
  }
}

const worker = await startWorker(modelDir, swap ? ['MANIFEST_TTL_SECONDS=1'] : []);
try {
  // Warm up (the first request creates the session), then measure memory at rest, after a full GC.
  await warmUp(worker);
  // A soak reads the JS heap only at its end (the inspector stays detached until then); a plain run before and after.
  const before = windowSeconds < seconds ? { wasm_heap_mb: +((await worker.wasmHeap()) / 2 ** 20).toFixed(1), workerd_rss_mb: +worker.rssMb().toFixed(1) } : await memory(worker);
  const byModel: Record<string, number> = {};
  let swapped: { published_after_s: number; manifest_at: number; first_answer_ms: number | null; to: string } | null = null;
  const started = Date.now();
  const swapping = swap
    ? (async () => {
        await new Promise((r) => setTimeout(r, (seconds * 1000) / 4)); // publishing takes a while (four wrangler calls)
        const to = await publishModel({ modelDir: swapTo, remote: false, persistTo: worker.persistTo, log: () => {} });
        swapped = { published_after_s: +((Date.now() - started) / 1000).toFixed(1), manifest_at: Date.now(), first_answer_ms: null, to: `${to.name}@${to.version}` };
      })()
    : Promise.resolve();
  const unexpected: Record<string, number> = {};
  const byCase: Record<string, number> = {};
  const runWindow = (duration: number) => autocannon({
    url: worker.base,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/predict',
        // Each connection walks the cases from its own random start; autocannon sets Content-Length.
        setupRequest: (request, context) => {
          const state = context as { next?: number; case?: number };
          const i = (state.next ?? random.int(0, cases.length)) % cases.length;
          state.next = i + 1;
          state.case = i;
          const c = cases[i]!;
          return { ...request, body: c.body, headers: c.headers };
        },
        onResponse: (status, body, context) => {
          const c = cases[(context as { case: number }).case]!;
          if (status === 200) {
            const model = (JSON.parse(body) as { model: { name: string; version: string } }).model;
            const name = `${model.name}@${model.version}`;
            byModel[name] = (byModel[name] ?? 0) + 1;
            const s = swapped as { manifest_at: number; first_answer_ms: number | null; to: string } | null;
            if (s && s.first_answer_ms === null && name === s.to) s.first_answer_ms = Date.now() - s.manifest_at;
          }
          byCase[c.name] = (byCase[c.name] ?? 0) + 1;
          if (status !== c.status) unexpected[`${c.name}: ${status} (expected ${c.status})`] = (unexpected[`${c.name}: ${status} (expected ${c.status})`] ?? 0) + 1;
        },
      },
    ],
  });
  // One autocannon run per window (`--window`, default the whole run), the isolate's memory after each.
  // Windows read memory without the inspector: a DevTools client sends Debugger.enable (slow wasm), and in two
  // 600 s soaks with it the Worker stopped answering after 5-8 windows while the inspector still did.
  const windows: Array<{ end_s: number; requests_per_s: number; p50_ms: number; p99_ms: number; wasm_heap_mb: number; workerd_rss_mb: number }> = [];
  const results: autocannon.Result[] = [];
  for (let done = 0; done < seconds; ) {
    const duration = Math.min(windowSeconds, seconds - done);
    const result = await runWindow(duration);
    done += duration;
    results.push(result);
    if (windowSeconds < seconds) {
      const wasmHeapMb = +((await worker.wasmHeap()) / 2 ** 20).toFixed(1);
      windows.push({ end_s: done, requests_per_s: result.requests.average, p50_ms: result.latency.p50, p99_ms: result.latency.p99, wasm_heap_mb: wasmHeapMb, workerd_rss_mb: +worker.rssMb().toFixed(1) });
      console.error(`window ending at ${done} s: ${JSON.stringify(windows.at(-1))} (non-2xx: ${result.non2xx}, errors: ${result.errors}, timeouts: ${result.timeouts})`);
    }
  }
  await swapping;
  const after = await memory(worker);
  const sum = (f: (r: autocannon.Result) => number) => results.reduce((a, r) => a + f(r), 0);
  const single = results.length === 1 ? results[0]! : null;
  const report = {
    seconds,
    connections,
    requests: sum((r) => r.requests.total),
    requests_per_s: +(sum((r) => r.requests.total) / seconds).toFixed(2),
    // Per window when there are several (percentiles do not add up across windows).
    latency_ms: single ? { p50: single.latency.p50, p97_5: single.latency.p97_5, p99: single.latency.p99, max: single.latency.max } : { p50_worst_window: Math.max(...results.map((r) => r.latency.p50)), p99_worst_window: Math.max(...results.map((r) => r.latency.p99)) },
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statuses: { '2xx': sum((r) => r['2xx']), '4xx': sum((r) => r['4xx']), '5xx': sum((r) => r['5xx']) },
    ...(windows.length ? { windows } : {}),
    by_case: byCase,
    unexpected,
    memory_before: before,
    memory_after: after,
    ...(swap ? { swap: { from_dir: modelDir, to_dir: swapTo, ...(swapped ?? {}), answers_by_model: byModel, fresh_isolate_with_new_model: freshSwapped } } : {}),
  };
  console.log(JSON.stringify(report, null, 2));
  const json = arg('--json', '');
  if (json) writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), model_dir: modelDir, ...report }, null, 2)}\n`);
  process.exitCode = Object.keys(unexpected).length || report.statuses['5xx'] || report.errors ? 1 : 0;
} finally {
  await worker.stop();
}
