/**
 * `npm run bench [-- --json FILE] [--n 50] [--model-dir DIR]`: every figure of the edge benchmark in one run,
 * on the 224×224 int8 ResNet50 (model/bench/, built by `npm run model`; a quick random-weight stand-in is built
 * into .cache/ when it is missing). Prints a table and writes the JSON.
 *
 * In workerd (wrangler dev, as `npm start` runs it): cold start (first /predict of a fresh isolate: R2 read,
 * sha256, session creation, inference), warm end-to-end latency over HTTP, ORT-web inference time, the
 * isolate's memory at rest (wasm heap, JS heap and ArrayBuffer backing stores after a full GC) and whether a
 * 4000×3000 JPEG is answered (in a second Worker whose limits admit it). Peak memory per request = that rest
 * figure + the request body + the decode's peak by the Worker's own footprint model (see decodePeakBytes):
 * workerd's inspector cannot sample inside a synchronous decode, so sampling there misses the peak (the sampled
 * figure is printed too, as a lower bound). In Node: onnxruntime-node 1 thread on the same file (the native
 * baseline), ORT-web int8 vs fp32, and the 12 MP decode → tensor time. Plus the bundle.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeBytesFor, decodeImage } from '../src/core/image/decode.js';
import { readImageHeader } from '../src/core/image/header.js';
import { parseManifest, type Manifest } from '../src/core/manifest.js';
import { preprocessImage } from '../src/core/preprocess.js';
import { buildDefaultModel } from '../training/default-model/build.js';
import { createNodeSession } from '../training/ort/node.js';
import { createWasmSession, WORKER_SESSION_OPTIONS } from '../training/ort/web.js';
import type { SessionOptions } from '../src/ort/session-options.js';
import { photoJpeg } from './lib/photo.js';
import { startWorker, type RunningWorker } from './lib/worker-server.js';

const arg = (name: string, fallback?: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const n = Number(arg('--n', '50'));
/** Requests of a fresh isolate whose inference times make the tier-up curve. */
const TIER_UP = 40;
/** MAX_BATCH as wrangler.toml ships it. */
const BATCH_MAX = 8;
const MB = 2 ** 20;
const r1 = (x: number) => Math.round(x * 10) / 10;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const log = (line: string) => process.stderr.write(`${line}\n`);

// `--markdown-from bench/results/bench.json --markdown BENCHMARKS.md`: rewrite BENCHMARKS.md from a committed run
// (and the deeper variants' bench/results/depth.json) without measuring again.
if (arg('--markdown-from')) {
  const { machine: m, ...figures } = JSON.parse(readFileSync(arg('--markdown-from')!, 'utf8')) as { machine: { cpus: number; cpu: string; memory_gb: number; node: string; date: string } } & Record<string, number | string | null>;
  writeFileSync(arg('--markdown', 'BENCHMARKS.md')!, benchmarksMarkdown(m, figures));
  process.exit(0);
}

async function benchModelDir(): Promise<string> {
  const given = arg('--model-dir');
  if (given) return given;
  if (statSync('model/bench/manifest.json', { throwIfNoEntry: false })) return 'model/bench';
  log('model/bench/ is missing (run `npm run model`); building a quick stand-in with random-ish weights into .cache/bench-model/');
  await buildDefaultModel({ out: '.cache/bench-model', fast: true, force: false, bench: true, log });
  return '.cache/bench-model/bench';
}

/**
 * Everything the isolate holds besides the wasm heap: JS heap, embedder memory and ArrayBuffer backing stores.
 * workerd's backingStorageSize does not include the wasm linear memory (measured: 25 MB beside a 70 MB heap).
 */
const isolateJsBytes = (h: Awaited<ReturnType<RunningWorker['jsHeap']>>) => h.used + h.embedder + h.backingStores;

/** Peak of wasm heap + isolateJsBytes while `request` runs (inspector sampling every ~2 ms: a lower bound). */
async function sampledPeakMb(worker: RunningWorker, request: () => Promise<Response>): Promise<{ status: number; peakMb: number }> {
  let peak = 0;
  let running = true;
  const sample = async () => {
    peak = Math.max(peak, isolateJsBytes(await worker.jsHeap()));
  };
  const sampler = (async () => {
    while (running) {
      await sample();
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const res = await request();
  await res.arrayBuffer();
  running = false;
  await sampler;
  await sample();
  const wasm = await worker.wasmHeap(); // linear memory never shrinks: its value after the request is its peak
  return { status: res.status, peakMb: r1((wasm + peak) / MB) };
}

/** Median ORT-web inference in Node (the Worker's wasm engine, 1 thread) with the given session options. */
async function ortWebMedian(file: string, manifest: Manifest, runs: number, options: SessionOptions): Promise<number> {
  const session = await createWasmSession(new Uint8Array(readFileSync(file)), options);
  const input = new Float32Array(3 * manifest.preprocess.width * manifest.preprocess.height).fill(0.5);
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const t = performance.now();
    await session.run(input, [...manifest.input.shape]);
    if (i >= 2) times.push(performance.now() - t);
  }
  await session.release();
  return quantile(times, 0.5);
}

function bundleSize(): { bytes: number; gzip: number } {
  const out = mkdtempSync(join(tmpdir(), 'edge-resnet-bundle-'));
  try {
    execFileSync(process.execPath, ['node_modules/wrangler/bin/wrangler.js', 'deploy', '--dry-run', '--outdir', out], { stdio: 'ignore', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
    const files = readdirSync(out).filter((f) => !f.endsWith('.map') && !f.endsWith('.md'));
    const sizes = files.map((f) => readFileSync(join(out, f)));
    return { bytes: sizes.reduce((a, b) => a + b.length, 0), gzip: sizes.reduce((a, b) => a + gzipSync(b, { level: 9 }).length, 0) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * Bytes a request's decode → tensor holds at its peak: the decode-memory model the Worker itself refuses images
 * by (src/core/image/footprint.ts, calibrated against jpeg-js/upng-js allocations in bench/decode-footprint.ts)
 * plus the input tensor. Measuring the growth directly is unreliable: V8 collects mid-decode under external
 * memory pressure, and workerd's inspector cannot sample inside a synchronous decode.
 */
const decodePeakBytes = (bytes: Uint8Array, spec: Manifest['preprocess']) => decodeBytesFor(readImageHeader(bytes), spec) + 3 * spec.width * spec.height * 4;

const modelDir = await benchModelDir();
const manifest = parseManifest(JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')));
const int8File = join(modelDir, manifest.file);
const fp32File = manifest.reference ? join(modelDir, manifest.reference.file) : null;
const jpeg224 = await photoJpeg(224, 224);
const jpeg12mp = await photoJpeg(4000, 3000, 85);
const jpeg2mp = await photoJpeg(1920, 1080, 85);
const results: Record<string, number | string | null> = { model: `${manifest.name}@${manifest.version}`, model_bytes: manifest.bytes };
let restBytes = 0;

interface PredictBody {
  timing: { inference_ms: number };
}

/**
 * A fresh isolate, measured as production runs it (no DevTools client attached): the first /predict (cold start)
 * and where its load went, the inference time of requests 1–TIER_UP (V8 tiers the 14 MB engine up meanwhile),
 * then `n` warm requests with the workerd process's CPU time over them.
 */
async function productionRun(worker: RunningWorker, body: Uint8Array) {
  const post = async () => {
    const t = performance.now();
    const res = await fetch(`${worker.base}/predict`, { method: 'POST', body });
    if (res.status !== 200) throw new Error(`/predict answered ${res.status}`);
    const json = (await res.json()) as PredictBody;
    return { ms: performance.now() - t, inference: json.timing.inference_ms };
  };
  const first = await post();
  const load = ((await (await fetch(`${worker.base}/debug/memory`)).json()) as { lastLoad: Record<string, number> }).lastLoad;
  const tierUp = [first.inference];
  while (tierUp.length < TIER_UP) tierUp.push((await post()).inference);
  const e2e: number[] = [];
  const inference: number[] = [];
  const cpuBefore = worker.cpuMs();
  for (let i = 0; i < n; i++) {
    const r = await post();
    e2e.push(r.ms);
    inference.push(r.inference);
  }
  const cpuPerRequest = (worker.cpuMs() - cpuBefore) / n;
  if (worker.debuggerAttached()) throw new Error('a DevTools client attached during the production-like run');
  return { first, load, tierUp, e2e, inference, cpuPerRequest };
}

/** Workers Paid: $0.30 per million requests + $0.02 per million CPU-ms. */
/** Images per second through /predict with `size` images per call (repeated multipart fields), over `rounds` calls. */
async function imagesPerSecond(worker: RunningWorker, image: Uint8Array, size: number, rounds: number): Promise<number> {
  const form = () => {
    const f = new FormData();
    for (let i = 0; i < size; i++) f.append('image', new Blob([image], { type: 'image/jpeg' }), `${i}.jpg`);
    return f;
  };
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: size === 1 ? image : form() });
    if (res.status !== 200) throw new Error(`/predict batch of ${size} answered ${res.status}`);
    await res.arrayBuffer();
  }
  return (size * rounds * 1000) / (performance.now() - start);
}

const usdPerMillion = (cpuMs: number) => Math.round((0.3 + 0.02 * cpuMs) * 100) / 100;

log('workerd: a fresh isolate as production runs it (no debugger): cold start and its split, tier-up, warm latency, CPU per request');
let worker = await startWorker(modelDir);
try {
  const run = await productionRun(worker, jpeg224);
  results.cold_start_ms = r1(run.first.ms);
  results.manifest_read_ms = r1(run.load.manifest_ms ?? NaN);
  results.r2_read_ms = r1(run.load.r2_read_ms ?? NaN);
  results.sha256_ms = r1(run.load.sha256_ms ?? NaN);
  results.session_create_ms = r1(run.load.session_create_ms ?? NaN);
  results.first_inference_ms = r1(run.first.inference);
  results.tierup_inference_ms = run.tierUp.map(r1).join(' ');
  results.tierup_first10_p50_ms = r1(quantile(run.tierUp.slice(0, 10), 0.5));
  results.tierup_last10_p50_ms = r1(quantile(run.tierUp.slice(-10), 0.5));
  results.e2e_warm_p50_ms = r1(quantile(run.e2e, 0.5));
  results.e2e_warm_p95_ms = r1(quantile(run.e2e, 0.95));
  results.ort_web_infer_ms = r1(quantile(run.inference, 0.5));
  results.e2e_vs_infer = Math.round(((results.e2e_warm_p50_ms as number) / (results.ort_web_infer_ms as number)) * 100) / 100;
  results.cpu_ms_per_request = r1(run.cpuPerRequest);
  results.usd_per_million = usdPerMillion(run.cpuPerRequest);

  log('workerd: batches of 1, 4 and 8 224 px JPEGs on /predict (same isolate, warm, no debugger)');
  for (const size of [1, 4, 8]) results[`batch_${size}_images_per_s`] = r1(await imagesPerSecond(worker, jpeg224, size, 3));
  if (worker.debuggerAttached()) throw new Error('a DevTools client attached during the batch run');

  log('workerd: memory through the inspector (attaching it from here on), and what a debugger costs');
  const m224 = await sampledPeakMb(worker, () => fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg224 }));
  await worker.collectGarbage();
  const wasm = await worker.wasmHeap();
  restBytes = wasm + isolateJsBytes(await worker.jsHeap());
  results.wasm_heap_mb = r1(wasm / MB);
  results.isolate_at_rest_mb = r1(restBytes / MB);
  results.peak_memory_sampled_mb_224 = m224.peakMb;
  const debugged: number[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg224 });
    debugged.push(((await res.json()) as PredictBody).timing.inference_ms);
  }
  results.ort_web_infer_ms_debugger_attached = r1(quantile(debugged, 0.5));
} finally {
  await worker.stop();
}

const defaultModelDir = arg('--default-model-dir', statSync('model/manifest.json', { throwIfNoEntry: false }) ? 'model' : undefined);
if (defaultModelDir) {
  log(`workerd: the default model (${defaultModelDir}/), fresh isolate, no debugger`);
  const defaultManifest = parseManifest(JSON.parse(readFileSync(join(defaultModelDir, 'manifest.json'), 'utf8')));
  const small = await photoJpeg(defaultManifest.preprocess.width, defaultManifest.preprocess.height);
  worker = await startWorker(defaultModelDir);
  try {
    const run = await productionRun(worker, small);
    results.default_model = `${defaultManifest.name}@${defaultManifest.version}`;
    results.default_model_cold_start_ms = r1(run.first.ms);
    results.default_model_infer_ms = r1(quantile(run.inference, 0.5));
    results.default_model_e2e_p50_ms = r1(quantile(run.e2e, 0.5));
    results.default_model_cpu_ms_per_request = r1(run.cpuPerRequest);
    results.default_model_usd_per_million = usdPerMillion(run.cpuPerRequest);
  } finally {
    await worker.stop();
  }
  const file = join(defaultModelDir, defaultManifest.file);
  results.default_model_ort_web_node_ms = r1(await ortWebMedian(file, defaultManifest, 30, WORKER_SESSION_OPTIONS));
  results.default_model_ort_web_node_prepack_ms = r1(await ortWebMedian(file, defaultManifest, 30, { prepack: true }));
  results.default_model_infer_workerd_vs_node = Math.round(((results.default_model_infer_ms as number) / (results.default_model_ort_web_node_ms as number)) * 100) / 100;
}

log('workerd: a 4000×3000 JPEG with the shipped limits');
worker = await startWorker(modelDir);
try {
  await (await fetch(`${worker.base}/readyz`)).arrayBuffer();
  const m12 = await sampledPeakMb(worker, () => fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg12mp }));
  results.status_12mp = m12.status;
  results.peak_memory_sampled_mb_12mp = m12.peakMb;
  // The largest allowed batch of 2 MP photos: 1920×1080 is under 8× a 224 px input, so each is decoded in full
  // (jpeg-js), one after another.
  const batch = new FormData();
  for (let i = 0; i < BATCH_MAX; i++) batch.append('image', new Blob([jpeg2mp], { type: 'image/jpeg' }), `${i}.jpg`);
  let answers: Array<{ error?: unknown }> = [];
  const mBatch = await sampledPeakMb(worker, async () => {
    const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: batch });
    answers = (await res.clone().json()) as typeof answers;
    return res;
  });
  results.status_batch8_2mp = mBatch.status === 200 && answers.length === BATCH_MAX && answers.every((a) => a.error === undefined) ? 200 : mBatch.status;
  results.peak_memory_sampled_mb_batch8_2mp = mBatch.peakMb;
} finally {
  await worker.stop();
}

log('node: decode 12 MP, native baseline, ORT-web int8 vs fp32');
const decodeTimes: number[] = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  preprocessImage(decodeImage(jpeg12mp, { maxPixels: 50_000_000 }, { for: manifest.preprocess }), manifest.preprocess);
  decodeTimes.push(performance.now() - t);
}
results.decode_12mp_ms = r1(quantile(decodeTimes, 0.5));
results.peak_memory_mb_224 = r1((restBytes + jpeg224.byteLength + decodePeakBytes(jpeg224, manifest.preprocess)) / MB);
results.peak_memory_mb_12mp = r1((restBytes + jpeg12mp.byteLength + decodePeakBytes(jpeg12mp, manifest.preprocess)) / MB);
// Images of a batch are decoded one at a time: the body holds all of them, the decode only one.
results.peak_memory_mb_batch8_2mp = r1((restBytes + BATCH_MAX * jpeg2mp.byteLength + decodePeakBytes(jpeg2mp, manifest.preprocess)) / MB);
const native = await createNodeSession(int8File, { threads: 1 });
const input = new Float32Array(3 * manifest.preprocess.width * manifest.preprocess.height).fill(0.5);
const nativeTimes: number[] = [];
for (let i = 0; i < 5 + n; i++) {
  const t = performance.now();
  await native.run(input, [...manifest.input.shape]);
  if (i >= 5) nativeTimes.push(performance.now() - t);
}
await native.release();
results.native_1t_ms = r1(quantile(nativeTimes, 0.5));
results.ratio_e2e_vs_native_1t = r1((results.e2e_warm_p50_ms as number) / (results.native_1t_ms as number));
const int8Web = await ortWebMedian(int8File, manifest, 10, WORKER_SESSION_OPTIONS);
const fp32Web = fp32File ? await ortWebMedian(fp32File, manifest, 10, WORKER_SESSION_OPTIONS) : null;
results.ort_web_node_int8_ms = r1(int8Web);
results.ort_web_node_int8_prepack_ms = r1(await ortWebMedian(int8File, manifest, 10, { prepack: true }));
results.infer_workerd_vs_node = Math.round(((results.ort_web_infer_ms as number) / int8Web) * 100) / 100;
// Why workerd is slower than Node on the same engine: the same file in fresh Node processes with and without
// V8's explicit wasm bounds checks (--wasm-enforce-bounds-checks: every memory access checked instead of the trap
// handler's guard pages), alternated so that drift cancels.
const childMedian = (flags: string[]) => {
  const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', 'bench/lib/ort-web-node.ts', int8File, '--size', String(manifest.preprocess.width)], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { median_ms: number }).median_ms;
};
const plainRuns: number[] = [];
const checkedRuns: number[] = [];
for (let i = 0; i < 2; i++) {
  plainRuns.push(childMedian([]));
  checkedRuns.push(childMedian(['--wasm-enforce-bounds-checks']));
}
const plainMs = Math.min(...plainRuns);
const checkedMs = Math.min(...checkedRuns);
results.ort_web_node_fresh_process_ms = r1(plainMs);
results.ort_web_node_bounds_checked_ms = r1(checkedMs);
results.bounds_checks_slowdown = Math.round((checkedMs / plainMs) * 100) / 100;
results.infer_workerd_vs_node_bounds_checked = Math.round(((results.ort_web_infer_ms as number) / checkedMs) * 100) / 100;
results.ort_web_node_fp32_ms = fp32Web === null ? null : r1(fp32Web);
results.int8_vs_fp32_speedup = fp32Web === null ? null : Math.round((fp32Web / int8Web) * 100) / 100;

log('bundle: wrangler deploy --dry-run');
const bundle = bundleSize();
results.bundle_bytes = bundle.bytes;
results.bundle_gzip_bytes = bundle.gzip;

const width = Math.max(...Object.keys(results).map((k) => k.length));
console.log(Object.entries(results).map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n'));
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gb: r1(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
const jsonPath = arg('--json');
if (jsonPath) writeFileSync(jsonPath, `${JSON.stringify({ machine, ...results }, null, 2)}\n`);
const markdownPath = arg('--markdown');
if (markdownPath) writeFileSync(markdownPath, benchmarksMarkdown(machine, results));

/** The deeper variants' table (bench/depth.ts's committed run), or nothing before one exists. */
function depthSection(): string {
  const file = 'bench/results/depth.json';
  if (!statSync(file, { throwIfNoEntry: false })) return '';
  const d = JSON.parse(readFileSync(file, 'utf8')) as { date: string; machine: { cpu: string; cores: number }; max_session_heap_mb: number; rows: Array<Record<string, number | boolean>> };
  const rows = d.rows.map((r) => `| ResNet${r.depth} | ${r.parameters} | ${r.int8_bytes} | ${r.onnx_parity_max_abs} | ${r.int8_agreement} (${r.agreement_images}, ${r.distinct_fp32_answers} distinct answers) | ${r.wasm_heap_mb} | ${r.fits_worker ? 'yes' : 'no'} | ${r.workerd_infer_p50_ms} |`);
  return `
## Deeper variants (\`npx tsx bench/depth.ts --json ${file}\`, ${d.date}, ${d.machine.cpu}, ${d.machine.cores} cores)

Random weights (none pretrained offline) with batch-norm statistics measured on drawn images, at 224×224, the Keras 1000-class head; the ResNet50 row (the depth the pipeline ships) is the same test's baseline. Fit: the session's wasm heap (measured in a
fresh process as the Worker creates it) must stay ≤ ${d.max_session_heap_mb} MB to leave room for a 2 MP photo in 128 MB;
\`publish\` refuses a model that does not fit.

| network | ONNX weights (BN folded) | int8 bytes | ONNX vs tfjs, max abs | int8↔fp32 top-1 agreement | wasm heap (MB) | fits the Worker | workerd inference p50 (ms) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

/** A model trained in PyTorch, imported and served (bench/import-agreement.ts's committed run), or nothing before one exists. */
function importAgreementSection(): string {
  const file = 'bench/results/import-agreement.json';
  if (!statSync(file, { throwIfNoEntry: false })) return '';
  const d = JSON.parse(readFileSync(file, 'utf8')) as {
    command: string; date: string; machine: { cpu: string; cores: number }; heldout_images: number; hf_and_onnx_same_answers: number;
    pytorch: { torch: string; torchvision: string; train_seconds: number; steps: number; input: number; train_images: number };
    rows: Array<{ source: string; reference_check?: { max_abs_diff?: number; not_run?: string }; int8_fp32_agreement_validation?: number; validation_images?: number; gmac?: { before: number; after: number }; prune_minutes?: number; agreement_with_pytorch_png: number; agreement_with_pytorch_jpeg: number; accuracy_worker_png: number; accuracy_pytorch_png: number; accuracy_worker_jpeg: number; accuracy_pytorch_jpeg: number }>;
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const check = (r: (typeof d.rows)[number]) => r.reference_check
    ? (r.reference_check.max_abs_diff !== undefined ? r.reference_check.max_abs_diff.toExponential(2) : 'not run')
    : `pruned ${r.gmac?.before} → ${r.gmac?.after} GMAC in ${r.prune_minutes} min; int8 = fp32 on ${pct(r.int8_fp32_agreement_validation ?? 0)} of ${r.validation_images} validation images`;
  const rows = d.rows.map((r) => `| ${r.source} | ${check(r)} | ${pct(r.agreement_with_pytorch_png)} / ${pct(r.agreement_with_pytorch_jpeg)} | ${pct(r.accuracy_worker_png)} / ${pct(r.accuracy_pytorch_png)} | ${pct(r.accuracy_worker_jpeg)} / ${pct(r.accuracy_pytorch_jpeg)} |`);
  return `
## A model fine-tuned in PyTorch, served by the Worker (\`${d.command} --json ${file}\`, ${d.date}, ${d.machine.cpu}, ${d.machine.cores} cores)

torchvision's ResNet50 with a 5-class \`fc\`, fine-tuned in PyTorch ${d.pytorch.torch} (torchvision ${d.pytorch.torchvision}) on
${d.pytorch.train_images} drawn shapes at ${d.pytorch.input}×${d.pytorch.input} for ${d.pytorch.steps} steps (${d.pytorch.train_seconds} s) from the default model's trunk (no pretrained
weights offline), exported with \`torch.onnx.export\` and saved as a Hugging Face folder; each imported (\`pipeline import\`),
served by wrangler dev and asked over HTTP about ${d.heldout_images} held-out images as drawn (JPEG) and as PNG of the same
pixels. PyTorch's answers: PIL + torchvision's eval transform on the same files. The two imports gave the same answer on
${pct(d.hf_and_onnx_same_answers)} of the requests. A pruned row is the imported export cut by \`pipeline prune\` and fine-tuned on
the same training images: its "= PyTorch's" is how far pruning moved the unpruned network's answers.

| source | import check, max abs Δ | Worker top-1 = PyTorch's (PNG / JPEG) | accuracy PNG: Worker / PyTorch | accuracy JPEG: Worker / PyTorch |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

/** The price of each lever (bench/price.ts's committed run), or nothing before one exists. */
function priceSection(): string {
  const file = 'bench/results/price.json';
  if (!statSync(file, { throwIfNoEntry: false })) return '';
  const d = JSON.parse(readFileSync(file, 'utf8')) as { command: string; date: string; machine: { cpu: string; cores: number }; network: string; note?: string; pricing: { workers_ai_usd_per_million: number }; host?: { ort_web_node_ms: number; committed_bench_ort_web_node_ms: number | null; committed_bench_usd_per_million: number | null }; max_session_heap_mb: number; tier_up_requests: number; measured_requests: number; rows: Array<Record<string, number | boolean>> };
  const rows = d.rows.map((r) => `| ${r.input} px | ${r.keep} | ${r.keep_stream ?? 1} | ${r.gmac} | ${r.int8_mb} | ${r.workerd_infer_p50_ms} | ${r.cpu_ms_per_request} | **$${Number(r.usd_per_million).toFixed(2)}** | ${r.below_workers_ai ? 'yes' : 'no'} | ${r.wasm_heap_mb} |`);
  return `
## The price of each lever (\`${d.command}\`, ${d.date}, ${d.machine.cpu}, ${d.machine.cores} cores)

${d.network}. Each variant's bottlenecks are cut as \`pipeline prune --epochs 0\` cuts them (inner widths × keep, in
multiples of 8; each stage's residual stream × stream, \`--keep-stream\`, 1: untouched), quantized to int8 and served by workerd (wrangler dev, no debugger):
${d.tier_up_requests} requests to tier up, then ${d.measured_requests} measured. CPU per request: user + system of the workerd process (an upper
bound of billed CPU); $ per million on Workers Paid = 0.30 + 0.02 × CPU-ms; Workers AI's resnet-50:
$${d.pricing.workers_ai_usd_per_million}.${d.note ? ` ${d.note}` : ''} Plot: bench/results/price.svg. Accuracy of pruning: next section.
${d.host?.committed_bench_ort_web_node_ms ? `
Hosts differ: this run's host ran the unpruned file in ORT-web in Node (1 thread) in ${d.host.ort_web_node_ms} ms, the host of the
committed \`npm run bench\` run (above: $${d.host.committed_bench_usd_per_million} per million for the same file) in ${d.host.committed_bench_ort_web_node_ms} ms, ${(d.host.ort_web_node_ms / d.host.committed_bench_ort_web_node_ms).toFixed(2)}×. Compare variants
within this table; each variant's price on the faster host is about its price here ÷ that ratio (the $0.30 per request aside).
` : ''}

| input | keep | stream | GMAC | int8 MB | workerd inference p50 (ms) | CPU-ms / request | $ / million | below Workers AI | wasm heap (MB) |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
${opProfileParagraph()}`;
}

/** Why pruning stops paying at 224 px in workerd (bench/op-profile.ts's committed run), or nothing before one exists. */
function opProfileParagraph(): string {
  const file = 'bench/results/op-profile.json';
  if (!statSync(file, { throwIfNoEntry: false })) return '';
  const d = JSON.parse(readFileSync(file, 'utf8')) as { command: string; date: string; rows: Array<{ model: string; of_first: { native: number; ort_web: number; ort_web_bounds_checked: number } }> };
  const [first, ...rest] = d.rows;
  if (!first) return '';
  return `
The same files in other engines (\`${d.command}\`, ${d.date}): ${rest.map((r) => `${r.model} takes ${r.of_first.native}× ${first.model}'s time in native onnxruntime, ${r.of_first.ort_web}× in ORT-web in Node, ${r.of_first.ort_web_bounds_checked}× with V8's explicit bounds checks`).join('; ')}. The wasm int8 convolution gains less from narrow layers than native code does, and with the inner widths alone cut, the layers on the full residual stream (stem, projections, the 1×1s that read and write it) keep most of the time; ORT-web's per-layer profile: docs/performance.md.
`;
}

/** Pruning's cost in accuracy on the default model (bench/prune-accuracy.ts's committed run), or nothing before one exists. */
function pruneAccuracySection(): string {
  const file = 'bench/results/prune-accuracy.json';
  if (!statSync(file, { throwIfNoEntry: false })) return '';
  const d = JSON.parse(readFileSync(file, 'utf8')) as { command: string; date: string; machine: { cpu: string; cores: number }; model: string; rows: Array<Record<string, unknown>>; criteria_without_fine_tuning: Array<Record<string, number | string>> };
  const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(1)} %` : '—');
  const rows = d.rows.map((r) => `| ${r.keep} | ${r.gmac ?? '—'} | ${r.fine_tune_epochs ? `${r.fine_tune_epochs} epochs, ${r.prune_minutes} min` : '—'} | ${pct(r.http_top1_shapes)} | ${pct(r.http_top1_svg)} | **${pct(r.http_top1_all)}** | ${r.workerd_infer_p50_ms} |`);
  const criteria = d.criteria_without_fine_tuning.map((c) => `| ${c.keep} | ${c.by} | ${pct(c.test_top1_int8)} |`);
  return `
## What pruning costs in accuracy (\`${d.command}\`, ${d.date}, ${d.machine.cpu}, ${d.machine.cores} cores)

The default model (${d.model}) pruned by \`pipeline prune --by taylor\` and fine-tuned with \`train\`'s loop on its own
build's training split (the best epoch by validation loss); each model served by workerd and asked over HTTP about
the build's two test sets (our renderer, librsvg), drawn after every choice: int8 as the Worker computes it. The
fine-tuning minutes are wall time on a host other runs shared (bench/price.ts, a CI run).

| keep | GMAC | fine-tuning (this machine) | top-1, shapes test set | top-1, librsvg test set | top-1, both | workerd inference p50 (ms) |
|---|---|---|---|---|---|---|
${rows.join('\n')}

${laterPruneRuns(pct)}
Before any fine-tuning (\`--epochs 0\`), on the shapes test set:

| keep | criterion | top-1 int8 |
|---|---|---|
${criteria.join('\n')}
`;
}

/** The runs after the first, one row each: the recipe's augmentation, then the unpruned model as teacher. */
function laterPruneRuns(pct: (x: unknown) => string): string {
  const runs = ['bench/results/prune-accuracy-recipe.json', 'bench/results/prune-accuracy-distill.json', 'bench/results/prune-accuracy-distill-6.json', 'bench/results/prune-accuracy-stream.json']
    .filter((file) => statSync(file, { throwIfNoEntry: false }))
    .map((file) => JSON.parse(readFileSync(file, 'utf8')) as { command: string; date: string; rows: Array<Record<string, unknown>> });
  if (runs.length === 0) return '';
  const rows = runs.flatMap((d) => d.rows.filter((r) => r.fine_tune_epochs).map((r) => {
    const distill = r.distillation as { weight: number; temperature: number } | null | undefined;
    // The default model's recipe recolours (channel permutations); train's augmentation is affine only.
    const how = `${(r.augmentation as { channelPermutation?: number } | null)?.channelPermutation ? "the recipe's augmentation" : "train's augmentation"}${distill ? `, teacher α ${distill.weight} T ${distill.temperature}` : ''}`;
    return `| \`${d.command}\`, ${d.date.slice(0, 10)} | ${r.keep}${r.keep_stream ? `, stream ${r.keep_stream}` : ''} | ${how}; ${r.fine_tune_epochs} epochs at ${r.fine_tune_lr}, ${r.prune_minutes} min | ${pct(r.http_top1_shapes)} | ${pct(r.http_top1_svg)} | **${pct(r.http_top1_all)}** |`;
  }));
  return `
Later runs on the same splits (the unpruned row above is their reference):

| run | keep | fine-tuning | top-1, shapes test set | top-1, librsvg test set | top-1, both |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

interface BatchRun {
  command: string; date: string; machine: { cpu: string; cores: number }; model: { name: string; version: string; input: string };
  job: { files: number; counts: { listed: number; done: number; failed: number }; error_codes: Record<string, number>; lines: number; distinct_keys: number; wall_s: number; images_per_second: number; readings_mid_job: number; chunk_keys: number; chunks_per_consumer_call: number; workerd_cpu_ms_per_image: number; storage_rows_written: number };
  predict: { workerd_cpu_ms_per_image: number }; agreement: { good_images_compared: number; equal_to_predict: number };
  isolate_after?: { wasm_heap_mb: number; js_heap_total_mb: number; array_buffers_mb: number; limit_mb: number };
  usd_per_million_images: Record<string, number>; predict_usd_per_million_requests: number; pricing: { workers_ai_resnet50_usd_per_million: number };
}

/** Batch jobs' throughput and price per image (bench/batch.ts's committed runs: the default model, and 224 px), or nothing before one exists. */
function batchSection(): string {
  const runs = ['bench/results/batch.json', 'bench/results/batch-224.json']
    .filter((file) => statSync(file, { throwIfNoEntry: false }))
    .map((file) => ({ file, d: JSON.parse(readFileSync(file, 'utf8')) as BatchRun }));
  if (runs.length === 0) return '';
  const head = runs.map(({ d }) => `${d.model.name}@${d.model.version}, ${d.model.input} px`);
  const row = (label: string, cell: (d: BatchRun) => string | number) => `| ${label} | ${runs.map(({ d }) => cell(d)).join(' | ')} |`;
  const usd = (k: string) => (d: BatchRun) => d.usd_per_million_images[k] ?? '—';
  const codes = (d: BatchRun) => Object.entries(d.job.error_codes).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
  return `
## Batch jobs (bench/batch.ts)

Each run: files spread evenly over ../shared/corpora (photos, conformance, fuzz and truncated files) put into the local
IMAGES bucket, then \`pipeline batch --prefix\` runs the job in wrangler dev (one local consumer; Cloudflare runs up to
250), then the same files are posted to /predict one by one: every answered line must equal /predict's answer.
CPU: user + system of the workerd process, which also runs the local R2, queue and Durable Object simulators (an
upper bound of the consumer's). Price per million images on Workers Paid from each run's figures (rates and sources
in the results files): CPU × $0.02/M CPU-ms; consumer calls × $0.30/M; 3 Queues operations per message × $0.40/M;
R2 Class A (a part per chunk, a list per 1,000 keys) × $4.50/M; Class B (a get per image) × $0.36/M; 2 Durable Object
calls per chunk and an alarm per page × $0.15/M; its duration (upper bound: active the whole job at the run's rate)
× $12.50/M GB-s; its SQLite rows written × $1.00/M.

| | ${head.join(' | ')} |
|---|${runs.map(() => '---').join('|')}|
${row('command, date, machine', (d) => `\`${d.command}\`, ${d.date}, ${d.machine.cpu}, ${d.machine.cores} cores`)}
${row('files → keys listed → lines (distinct keys)', (d) => `${d.job.files} → ${d.job.counts.listed} → ${d.job.lines} (${d.job.distinct_keys})`)}
${row('answered / error lines', (d) => `${d.job.counts.done} / ${d.job.counts.failed}: ${codes(d)}`)}
${row('lines equal to /predict’s answer', (d) => `${d.agreement.equal_to_predict} of ${d.agreement.good_images_compared}`)}
${row('status readings part-way', (d) => d.job.readings_mid_job)}
${row('wall time, listing to last line', (d) => `${d.job.wall_s} s`)}
${row('images per second (one local consumer)', (d) => d.job.images_per_second)}
${row('workerd CPU-ms per image: the job', (d) => d.job.workerd_cpu_ms_per_image)}
${row('workerd CPU-ms per image: the same files through /predict', (d) => d.predict.workerd_cpu_ms_per_image)}
${row('isolate after: wasm heap + V8 heap (MB, of 128)', (d) => (d.isolate_after ? `${d.isolate_after.wasm_heap_mb} + ${d.isolate_after.js_heap_total_mb}` : '—'))}
${row('chunk keys × chunks per consumer call', (d) => `${d.job.chunk_keys} × ${d.job.chunks_per_consumer_call}`)}
${row('$/M images: CPU', usd('cpu'))}
${row('$/M: consumer invocations', usd('consumer_invocations'))}
${row('$/M: Queues', usd('queues'))}
${row('$/M: R2 Class A (writes, lists)', usd('r2_class_a'))}
${row('$/M: R2 Class B (reads)', usd('r2_class_b'))}
${row('$/M: Durable Object requests', usd('do_requests'))}
${row('$/M: Durable Object duration', usd('do_duration'))}
${row('$/M: Durable Object rows written', (d) => `${d.usd_per_million_images.do_rows_written} (${d.job.storage_rows_written} rows)`)}
${row('**$ per million images, total**', (d) => `**$${d.usd_per_million_images.total}**`)}
${row('the same files through /predict, one request each', (d) => `$${d.predict_usd_per_million_requests}`)}
${row('Workers AI `@cf/microsoft/resnet-50`', (d) => `$${d.pricing.workers_ai_resnet50_usd_per_million}`)}
`;
}

/** The workerd-vs-Node experiment (bench/engine-gap.ts's committed run), or nothing before one exists. */
function engineGapSection(): string {
  const file = 'bench/results/engine-gap.json';
  if (!statSync(file, { throwIfNoEntry: false })) return '';
  const d = JSON.parse(readFileSync(file, 'utf8')) as { command: string; date: string; machine: { cpu: string; cores: number }; workerd_v8: string | null; model: string; rounds: number; rows: Array<{ config: string; fastest_ms: number; median_of_medians_ms: number; workerd_vs_this_fastest: number }> };
  const rows = d.rows.map((r) => `| ${r.config} | ${r.fastest_ms} | ${r.median_of_medians_ms} | ${r.workerd_vs_this_fastest} |`);
  return `
## Why workerd is slower than Node on the same engine (\`${d.command}\`, ${d.date}, ${d.machine.cpu}, ${d.machine.cores} cores)

${d.model}, ${d.rounds} alternated rounds; workerd's V8 is ${d.workerd_v8 ?? 'unknown'}. The fastest run of each configuration is the figure
that a noisy host disturbs least (medians beside it); the last column is workerd's fastest over this one's.

| configuration | fastest (ms) | median of medians (ms) | workerd / this |
|---|---|---|---|
${rows.join('\n')}

How to read it (the run of 2026-12-02 read this way): when workerd's fastest is close to Node's with
\`--wasm-enforce-bounds-checks\` (V8's explicit bounds check on every wasm memory access instead of its trap handler's
guard pages) and plain Node is faster by about what those checks cost, on both V8 versions and both model forms, then
neither the V8 version nor the Worker's model form is the gap: workerd runs this wasm as V8 does without its trap
handler. That fits what its source shows (jsg/setup.c++ creates V8's platform itself and, in the part read, never calls
\`EnableWebAssemblyTrapHandler\`); it is not verified in the binary, and no session option or model form of ours changes it.
`;
}

/** BENCHMARKS.md, written from this run's figures only. */
function benchmarksMarkdown(m: typeof machine, figures: typeof results): string {
  const rows = Object.entries(figures).map(([k, v]) => `| \`${k}\` | ${v ?? '—'} |`);
  return `# Benchmarks

Written by \`npm run bench -- --json bench/results/bench.json --markdown BENCHMARKS.md\` (bench/run.ts); every number below comes
from that run. Model: the 224×224 int8 ResNet50 built by \`npm run model\` (model/bench/).

Machine: ${m.cpu}, ${m.cpus} CPUs, ${m.memory_gb} GiB, Node ${m.node}; run ${m.date}.

| key | value |
|---|---|
${rows.join('\n')}

- Latency, CPU and cost come from fresh isolates with **no DevTools client attached** (the bench connects to the
  inspector only afterwards, for memory): wrangler's inspector proxy sends \`Debugger.enable\` when a client attaches,
  and V8 then runs wasm as debug code. \`ort_web_infer_ms_debugger_attached\` is the same isolate after attaching.
- \`cold_start_ms\`: first /predict of a fresh isolate, split by the Worker's own clock into \`manifest_read_ms\`,
  \`r2_read_ms\`, \`sha256_ms\`, \`session_create_ms\` and \`first_inference_ms\` (the rest is HTTP, decode and JSON).
- \`tierup_inference_ms\`: inference time of requests 1–${TIER_UP} of that isolate (V8 tiers the engine up meanwhile).
- \`e2e_warm_*\`: a 224×224 JPEG posted over HTTP to wrangler dev (workerd), ${n} requests after the tier-up requests.
- \`ort_web_infer_ms\`: ORT-web inference inside workerd (the response's \`timing.inference_ms\`, median of those ${n}).
- \`cpu_ms_per_request\`: user + system CPU of the workerd process (/proc) over those ${n} requests, divided by ${n}:
  the isolate's work plus workerd's own HTTP handling, so an upper bound of what Cloudflare bills as CPU time.
  \`usd_per_million\` = 0.30 + 0.02 × that (Workers Paid; Workers AI's resnet-50 is $2.51).
- \`ort_web_node_int8_ms\`: the same file in ORT-web in Node with the Worker's session options (\`_prepack_ms\`: prepacking
  on); \`infer_workerd_vs_node\` = \`ort_web_infer_ms\` / \`ort_web_node_int8_ms\`. \`native_1t_ms\`: onnxruntime-node,
  1 thread, same file, same run. \`int8_vs_fp32_speedup\`: ORT-web (wasm, 1 thread) in Node.
- Why workerd is slower than Node on the same engine (\`infer_workerd_vs_node\`): \`ort_web_node_bounds_checked_ms\` is
  the same file in a fresh Node process run with \`--wasm-enforce-bounds-checks\` (V8 checks every wasm memory access
  explicitly instead of relying on its trap handler's guard pages), \`ort_web_node_fresh_process_ms\` the same without
  (best of two alternated runs each). When \`bounds_checks_slowdown\` comes close to \`infer_workerd_vs_node\` and
  \`infer_workerd_vs_node_bounds_checked\` close to 1, workerd runs the engine with explicit bounds checks: a property of
  the runtime, not of our code or settings.
- \`default_model_*\`: the same production-like run on the default model (model/, 32×32 input) and its ORT-web time in Node.
- \`peak_memory_mb_*\`: the isolate at rest after a full GC (wasm heap + JS heap + ArrayBuffer backing stores, read
  through the inspector) + the request body + the decode's peak by the footprint model the Worker refuses images by
  (src/core/image/footprint.ts, calibrated in bench/decode-footprint.ts) + the input tensor. \`peak_memory_sampled_mb_*\` is the inspector sampled during the request: a lower bound,
  since workerd cannot answer the inspector during a synchronous decode. \`status_12mp\`: the answer to the 4000×3000
  JPEG from a Worker with the shipped limits.
- \`batch_N_images_per_s\`: /predict with N 224×224 JPEGs per call (repeated multipart \`image\` fields), 3 calls, in the
  production-like isolate before the inspector attaches. \`*_batch8_2mp\`: a batch of ${BATCH_MAX} (MAX_BATCH) 1920×1080 JPEGs, each
  decoded in full, one after another; \`status_batch8_2mp\` is 200 only when all ${BATCH_MAX} were classified.
- \`decode_12mp_ms\`: a 4000×3000 JPEG → input tensor through the shared core, in Node: decoded at 1/8 scale in the
  DCT domain (src/core/image/jpeg-dc.ts, since 224 px needs no more), then the one-pass area resize.
- \`bundle_*\`: \`wrangler deploy --dry-run\` output without source maps (gzip -9 per file).
${engineGapSection()}${depthSection()}${importAgreementSection()}${priceSection()}${pruneAccuracySection()}${batchSection()}`;
}
