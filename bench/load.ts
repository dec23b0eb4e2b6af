/**
 * `npm run load [-- --model-dir model] [--seconds 60] [--connections 20]`: starts the Worker as `npm start`
 * does and drives it with autocannon: a rotating mix of valid JPEGs and PNGs of several sizes (multipart and
 * raw) and bad inputs (not an image, truncated, empty, over the pixel limit), each with the status it must
 * get. Reports requests/s and latency, unexpected statuses, and the isolate's memory (JS heap, wasm heap)
 * before and after the run. Exits 1 on any unexpected status.
 */
import autocannon from 'autocannon';
import sharp from 'sharp';
import { seededRandom } from '../training/data/random.js';
import { drawShape, SHAPE_CLASSES } from '../training/data/shapes.js';
import { startWorker } from './worker-server.js';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const modelDir = arg('--model-dir', 'model');
const seconds = Number(arg('--seconds', '60'));
const connections = Number(arg('--connections', '20'));

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
const raw = { 'content-type': 'application/octet-stream' };
const cases: Case[] = [
  { name: 'jpeg 224 raw', body: jpeg224, headers: raw, status: 200 },
  { name: 'jpeg 640 multipart', ...multipart(jpeg640, 'a.jpg'), status: 200 },
  { name: 'png 320 raw', body: png320, headers: raw, status: 200 },
  { name: 'jpeg 1400 raw', body: jpeg1400, headers: raw, status: 200 },
  { name: 'not an image', body: Buffer.from('GIF89a this is not supported'), headers: raw, status: 415 },
  { name: 'truncated jpeg', body: jpeg640.subarray(0, 600), headers: raw, status: 422 },
  { name: 'empty body', body: Buffer.alloc(0), headers: { ...raw, 'content-length': '0' }, status: 400 },
  { name: '9 MP jpeg', body: huge, headers: raw, status: 413 },
  { name: 'multipart without image', ...multipart(Buffer.from('x'), 'a.txt'), status: 200 },
];
// The last case is multipart whose "image" is not an image: 415, not 200.
cases[cases.length - 1]!.status = 415;

const worker = await startWorker(modelDir);
try {
  // Warm up (the first request creates the session), then measure memory at rest, after a full GC.
  for (const c of cases) await fetch(`${worker.base}/predict`, { method: 'POST', body: c.body, headers: c.headers });
  const memory = async () => (await worker.collectGarbage(), { js_heap_mb: +((await worker.jsHeap()).used / 2 ** 20).toFixed(1), wasm_heap_mb: +((await worker.wasmHeap()) / 2 ** 20).toFixed(1) });
  const before = await memory();
  const unexpected: Record<string, number> = {};
  const byCase: Record<string, number> = {};
  const result = await autocannon({
    url: worker.base,
    connections,
    duration: seconds,
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
        onResponse: (status, _body, context) => {
          const c = cases[(context as { case: number }).case]!;
          byCase[c.name] = (byCase[c.name] ?? 0) + 1;
          if (status !== c.status) unexpected[`${c.name}: ${status} (expected ${c.status})`] = (unexpected[`${c.name}: ${status} (expected ${c.status})`] ?? 0) + 1;
        },
      },
    ],
  });
  const after = await memory();
  const report = {
    seconds,
    connections,
    requests: result.requests.total,
    requests_per_s: result.requests.average,
    latency_ms: { p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    statuses: { '2xx': result['2xx'], '4xx': result['4xx'], '5xx': result['5xx'] },
    by_case: byCase,
    unexpected,
    memory_before: before,
    memory_after: after,
  };
  console.log(JSON.stringify(report, null, 2));
  process.exitCode = Object.keys(unexpected).length || result['5xx'] || result.errors ? 1 : 0;
} finally {
  await worker.stop();
}
