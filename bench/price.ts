/**
 * The price of a classification for each lever, in one run: the 224 px int8 ResNet50 that `npm run bench` prices
 * (model/bench/: the default model's trained weights at 224×224, Keras' v1 blocks, a 5-class head; Workers AI's
 * 1000-class head would add 2 M of its 3.9 G multiply-accumulates), with its bottlenecks' inner channels pruned to
 * keep 1.0 / 0.75 / 0.5 / 0.35 / 0.25 as `pipeline prune --epochs 0 --by l1` cuts them (multiples of 8, the residual
 * stream untouched), then with each stage's residual stream cut too (`--keep-stream`), and at inputs 224 / 192 /
 * 160, the levers combined at 160. Each variant is quantized to int8
 * on drawn shapes, written in the split form the Worker loads, then served by workerd (wrangler dev, no
 * debugger): warm inference and CPU-ms per request (user + system of the workerd process over the requests,
 * /proc), the price on Workers Paid ($0.30/M requests + $0.02/M CPU-ms), the session's wasm heap (a fresh
 * process, as publish measures it). Speed and price only: accuracy is bench/prune-accuracy.ts's question.
 * Usage: npx tsx bench/price.ts [--json bench/results/price.json] [--svg bench/results/price.svg] [--only 224:0.25:0.5]   (~30 min on 2 cores; needs model/bench/ from `npm run model`)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../src/core/manifest.js';
import { caffePreprocess } from '../src/core/preprocess-spec.js';
import { preprocessImage } from '../src/core/preprocess.js';
import { seededRandom } from '../training/data/random.js';
import { drawShape, SHAPE_CLASSES } from '../training/data/shapes.js';
import { writeExternalDataForm } from '../training/model-folder/external-data.js';
import { sha256OfBytes, writeFileAtomic, writeJsonAtomic } from '../training/model-folder/files.js';
import { buildManifest } from '../training/model-folder/manifest.js';
import { networkSummary } from '../training/model-folder/network.js';
import { architectureOf, type ResNetDescription } from '../training/network/description.js';
import { gmacOf } from '../training/network/macs.js';
import { buildResNet } from '../training/network/resnet.js';
import { exportToOnnx } from '../training/onnx/export.js';
import { encodeModel } from '../training/onnx/proto.js';
import { quantizeStatic } from '../training/onnx/quantize.js';
import { MAX_SESSION_HEAP_MB, measureSessionHeapMb } from '../training/onnx/worker-fit.js';
import { l1Scores, scoredConvolutions } from '../training/prune/rank.js';
import { pruneNetwork } from '../training/prune/slice.js';
import { applyLayerWeights, type LayerWeights } from '../training/sources/layer-weights.js';
import { readSource } from '../training/sources/source.js';
import { useBackend } from '../training/tf/backend.js';
import { photoJpeg } from './lib/photo.js';
import { startWorker } from './lib/worker-server.js';

/** Workers AI's `@cf/microsoft/resnet-50`, per million images (the price to beat). */
const WORKERS_AI_USD_PER_MILLION = 2.51;
/** Workers Paid: $0.30 per million requests + $0.02 per million CPU-ms. */
const usdPerMillion = (cpuMs: number) => Math.round((0.3 + 0.02 * cpuMs) * 100) / 100;
const VARIANTS: Array<{ keep: number; stream?: number; size: number }> = [
  { keep: 1, size: 224 }, { keep: 0.75, size: 224 }, { keep: 0.5, size: 224 }, { keep: 0.35, size: 224 }, { keep: 0.25, size: 224 },
  { keep: 0.5, stream: 0.5, size: 224 }, { keep: 0.35, stream: 0.5, size: 224 }, { keep: 0.25, stream: 0.5, size: 224 }, { keep: 0.35, stream: 0.35, size: 224 },
  { keep: 1, size: 192 }, { keep: 1, size: 160 }, { keep: 0.5, size: 160 }, { keep: 0.35, size: 160 }, { keep: 0.25, stream: 0.5, size: 160 }, { keep: 0.25, stream: 0.35, size: 160 },
];
const TIER_UP = 15;
const MEASURED = 20;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);

// --svg-from FILE --svg OUT: the plot again from a committed run (no measuring).
if (arg('--svg-from')) {
  await writeFileAtomic(arg('--svg')!, plot((JSON.parse(readFileSync(arg('--svg-from')!, 'utf8')) as { rows: Record<string, number | boolean>[] }).rows));
  process.exit(0);
}
await useBackend('wasm');
const benchDir = arg('--model-dir') ?? 'model/bench';
const benchManifest = parseManifest(JSON.parse(readFileSync(join(benchDir, 'manifest.json'), 'utf8')));
if (!benchManifest.reference) throw new Error(`${benchDir}: no fp32 reference to prune (run \`npm run model\`)`);
const source = await readSource(join(benchDir, benchManifest.reference.file));
const labels = benchManifest.labels;

/** Drawn shapes preprocessed for `size` (calibration and the split form's check). */
function drawn(size: number, n: number, seed: number) {
  const random = seededRandom(seed);
  const spec = caffePreprocess(size, size);
  return Array.from({ length: n }, (_, i) => preprocessImage({ width: size, height: size, channels: 4, data: drawShape(SHAPE_CLASSES[i % 5]!, size, random).rgba, orientation: 1 }, spec));
}

/** Builds the network from its description and weights, exports, quantizes, writes the folder the Worker loads. */
async function writeVariant(dir: string, d: ResNetDescription, weights: LayerWeights, keep: number) {
  const size = d.inputSize;
  const spec = caffePreprocess(size, size);
  const model = buildResNet(d, { seed: 1 });
  const report = applyLayerWeights(model, weights);
  if (report.missing.length > 0) throw new Error(`no weights for ${report.missing.join(', ')}`);
  await Promise.all(model.weights.map((w) => w.read().data()));
  const fp32 = exportToOnnx(model);
  model.dispose();
  const { model: int8, summary } = await quantizeStatic(fp32, drawn(size, 17, 4242), [1, 3, size, size], { method: 'percentile' });
  const int8Bytes = encodeModel(int8);
  const fp32Bytes = encodeModel(fp32);
  await writeFileAtomic(join(dir, 'model-int8.onnx'), int8Bytes);
  await writeFileAtomic(join(dir, 'model-fp32.onnx'), fp32Bytes);
  const manifest = buildManifest({
    name: `resnet50-${size}-keep${keep}`, version: '0.0.0', file: 'model-int8.onnx', bytes: int8Bytes, sha256: sha256OfBytes(int8Bytes), preprocess: spec, labels, quantization: summary, metrics: {},
    architecture: architectureOf(d), network: networkSummary(d), reference: { file: 'model-fp32.onnx', sha256: sha256OfBytes(fp32Bytes), bytes: fp32Bytes.byteLength },
    externalData: await writeExternalDataForm(dir, 'model-int8.onnx', int8Bytes, { tensors: drawn(size, 8, 77), dims: [1, 3, size, size] }),
  });
  await writeJsonAtomic(join(dir, 'manifest.json'), manifest);
  return int8Bytes.byteLength;
}

// This host's speed against the committed `npm run bench` run's: the same file in ORT-web in Node, 1 thread
// (bench/lib/ort-web-node.ts, as bench/run.ts measures \`ort_web_node_int8_ms\`). Prices scale with it.
const hostReference = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/lib/ort-web-node.ts', join(benchDir, benchManifest.file), '--runs', '15'], { encoding: 'utf8' })) as { median_ms: number };
const committed = JSON.parse(readFileSync('bench/results/bench.json', 'utf8')) as { ort_web_node_int8_ms?: number; usd_per_million?: number; cpu_ms_per_request?: number };
console.log(JSON.stringify({ host_reference_ms: hostReference.median_ms, committed_bench_ms: committed.ort_web_node_int8_ms }));

const rows: Record<string, number | boolean>[] = [];
// --variants N: only the first N; --only SIZE:KEEP[:STREAM]: that one (quick checks; the committed table is all of them).
const only = arg('--only')?.split(':').map(Number);
const chosen = only ? VARIANTS.filter((v) => v.size === only[0] && v.keep === only[1] && (v.stream ?? 1) === (only[2] ?? 1)) : VARIANTS.slice(0, Number(arg('--variants') ?? VARIANTS.length));
for (const { keep, stream = 1, size } of chosen) {
  const base = { description: { ...source.description, inputSize: size }, weights: source.weights };
  // Structure as `prune --epochs 0 --by l1 [--keep-stream]` leaves it (the criterion only decides which channels go).
  const variant = keep === 1 && stream === 1 ? base : pruneNetwork(base.description, base.weights, l1Scores(base.description, base.weights, scoredConvolutions(base.description, stream)), keep, stream);
  const dir = mkdtempSync(join(tmpdir(), `price-${size}-${keep}-`));
  try {
    const int8Bytes = await writeVariant(dir, variant.description, variant.weights, keep);
    const heap = await measureSessionHeapMb(dir, join(dir, 'fit-cache'));
    const jpeg = await photoJpeg(size, size);
    const worker = await startWorker(dir, [], { noFitCheck: true });
    const inference: number[] = [];
    let cpuPerRequest: number;
    try {
      const post = async () => {
        const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg });
        const body = (await res.json()) as { timing: { inference_ms: number } };
        if (res.status !== 200) throw new Error(`keep ${keep} at ${size}: /predict answered ${res.status}: ${JSON.stringify(body)}`);
        return body.timing.inference_ms;
      };
      for (let i = 0; i < TIER_UP; i++) await post();
      const cpuBefore = worker.cpuMs();
      for (let i = 0; i < MEASURED; i++) inference.push(await post());
      cpuPerRequest = (worker.cpuMs() - cpuBefore) / MEASURED;
      if (worker.debuggerAttached()) throw new Error('a DevTools client attached during the run');
    } finally {
      await worker.stop();
    }
    const row = {
      keep, keep_stream: stream, input: size, gmac: gmacOf(variant.description), int8_mb: round(int8Bytes / 2 ** 20), workerd_infer_p50_ms: round(median(inference)),
      cpu_ms_per_request: round(cpuPerRequest), usd_per_million: usdPerMillion(cpuPerRequest), below_workers_ai: usdPerMillion(cpuPerRequest) < WORKERS_AI_USD_PER_MILLION,
      wasm_heap_mb: heap, fits_worker: heap <= MAX_SESSION_HEAP_MB,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Price against GMAC, one dot per variant, Workers AI's price and $1 as lines. */
function plot(points: typeof rows): string {
  const [w, h, left, bottom, top, right] = [640, 400, 60, 50, 20, 20];
  const maxX = Math.ceil(Math.max(...points.map((p) => p.gmac as number)));
  const maxY = Math.max(4, Math.ceil(Math.max(...points.map((p) => p.usd_per_million as number))));
  const x = (v: number) => left + (v / maxX) * (w - left - right);
  const y = (v: number) => h - bottom - (v / maxY) * (h - bottom - top);
  const line = (usd: number, label: string, colour: string) => `<line x1="${x(0)}" x2="${x(maxX)}" y1="${y(usd)}" y2="${y(usd)}" stroke="${colour}" stroke-dasharray="6 4"/><text x="${x(maxX) - 4}" y="${y(usd) - 6}" text-anchor="end" font-size="12" fill="${colour}">${label}</text>`;
  const ticksX = Array.from({ length: maxX + 1 }, (_, i) => `<text x="${x(i)}" y="${h - bottom + 18}" text-anchor="middle" font-size="12">${i}</text>`).join('');
  const ticksY = Array.from({ length: maxY + 1 }, (_, i) => `<text x="${left - 8}" y="${y(i) + 4}" text-anchor="end" font-size="12">$${i}</text>`).join('');
  const label = (p: (typeof points)[number]) => (x(p.gmac as number) > w * 0.75 ? { dx: -6, anchor: 'end' } : { dx: 6, anchor: 'start' });
  const dots = points.map((p) => `<circle cx="${x(p.gmac as number)}" cy="${y(p.usd_per_million as number)}" r="4" fill="#1f5fbf"/><text x="${x(p.gmac as number) + label(p).dx}" y="${y(p.usd_per_million as number) - 6}" text-anchor="${label(p).anchor}" font-size="11">${p.input} px, keep ${p.keep}${p.keep_stream !== undefined && p.keep_stream !== 1 ? `, stream ${p.keep_stream}` : ''}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>
<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" stroke="black"/><line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" stroke="black"/>${ticksX}${ticksY}
<text x="${(w + left) / 2}" y="${h - 12}" text-anchor="middle" font-size="13">GMAC per image (int8 ResNet50, pruned)</text>
<text x="16" y="${(h - bottom) / 2}" transform="rotate(-90 16 ${(h - bottom) / 2})" text-anchor="middle" font-size="13">$ per million images, Workers Paid</text>
${line(WORKERS_AI_USD_PER_MILLION, `Workers AI resnet-50: $${WORKERS_AI_USD_PER_MILLION}`, '#c0392b')}${line(1, '$1', '#7f8c8d')}${dots}</svg>
`;
}

const result = {
  command: 'npx tsx bench/price.ts --json bench/results/price.json --svg bench/results/price.svg',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
  network: `${benchManifest.name}@${benchManifest.version}: the default model's trained weights at 224×224 (Keras ResNet50 v1 blocks, ${labels.length}-class head), pruned and resized structurally (no fine-tuning: speed and price only)`,
  pricing: { usd_per_million_requests: 0.3, usd_per_million_cpu_ms: 0.02, workers_ai_usd_per_million: WORKERS_AI_USD_PER_MILLION },
  host: {
    ort_web_node_ms: Math.round(hostReference.median_ms * 10) / 10,
    committed_bench_ort_web_node_ms: committed.ort_web_node_int8_ms ?? null,
    committed_bench_cpu_ms_per_request: committed.cpu_ms_per_request ?? null,
    committed_bench_usd_per_million: committed.usd_per_million ?? null,
    note: 'the unpruned 224 px file in ORT-web in Node, 1 thread, on this host and in the committed bench.json run: their ratio is how much slower or faster this host is',
  },
  tier_up_requests: TIER_UP,
  measured_requests: MEASURED,
  max_session_heap_mb: round(MAX_SESSION_HEAP_MB),
  rows,
};
const json = arg('--json');
if (json) await writeJsonAtomic(json, result);
const svg = arg('--svg');
if (svg) await writeFileAtomic(svg, plot(rows));
