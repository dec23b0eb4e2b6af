/**
 * `npx tsx bench/latency.ts [--model-dir DIR] [--n 50]`: warm end-to-end latency of POST /predict over HTTP
 * (a 224×224 JPEG) against the Worker in workerd, with onnxruntime-node (1 thread, same model, same run) as
 * the native baseline.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseManifest } from '../src/core/manifest.js';
import { createNodeSession } from '../training/ort-node.js';
import { startWorker } from './worker-server.js';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const modelDir = arg('--model-dir', 'model/bench');
const n = Number(arg('--n', '50'));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const jpeg = new Uint8Array(await sharp({ create: { width: 224, height: 224, channels: 3, background: '#4a7' } }).composite([{ input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="224" height="224"><circle cx="112" cy="112" r="60" fill="#c33"/></svg>') }]).jpeg({ quality: 90 }).toBuffer());
const worker = await startWorker(modelDir, process.argv.includes('--prepack') ? ['ORT_PREPACK=1'] : []);
const e2e: number[] = [];
const inference: number[] = [];
try {
  for (let i = 0; i < 5; i++) await (await fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg })).arrayBuffer();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg });
    const body = (await res.json()) as { timing: { inference_ms: number } };
    e2e.push(performance.now() - t);
    inference.push(body.timing.inference_ms);
  }
} finally {
  await worker.stop();
}
const manifest = parseManifest(JSON.parse(await readFile(join(modelDir, 'manifest.json'), 'utf8')));
const session = await createNodeSession(join(modelDir, manifest.file), { threads: 1 });
const input = new Float32Array(3 * manifest.preprocess.width * manifest.preprocess.height).fill(1);
const native: number[] = [];
for (let i = 0; i < 5 + n; i++) {
  const t = performance.now();
  await session.run(input, [...manifest.input.shape]);
  if (i >= 5) native.push(performance.now() - t);
}
await session.release();
const r = (x: number) => +x.toFixed(1);
console.log(JSON.stringify({ model: `${manifest.name}@${manifest.version}`, requests: n, e2e_warm_p50_ms: r(quantile(e2e, 0.5)), e2e_warm_p95_ms: r(quantile(e2e, 0.95)), ort_web_infer_p50_ms: r(quantile(inference, 0.5)), native_1t_p50_ms: r(quantile(native, 0.5)), ratio_e2e_vs_native_1t: r(quantile(e2e, 0.5) / quantile(native, 0.5)) }, null, 2));
