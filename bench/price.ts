/**
 * The price of a classification for each lever, in one run: the 224 px int8 ResNet50 with its bottlenecks'
 * inner channels pruned to keep 1.0 / 0.75 / 0.5 / 0.35 (training/prune: multiples of 8, the residual stream
 * untouched), and at inputs 224 / 192 / 160, with the two combined at 160. Each variant is built as `prune
 * --epochs 0` leaves it (structure only: random weights with batch-norm statistics measured on drawn images,
 * the 1000-class Keras head re-centred so answers vary; no pretrained weights offline), quantized to int8,
 * written in the split form the Worker loads, then served by workerd (wrangler dev, no debugger): warm
 * inference and CPU-ms per request (user + system of the workerd process over the requests, /proc), the
 * price on Workers Paid ($0.30/M requests + $0.02/M CPU-ms), the session's wasm heap (a fresh process, as
 * publish measures it). Accuracy is another question (bench/prune-accuracy.ts).
 * Usage: npx tsx bench/price.ts [--json bench/results/price.json] [--svg bench/results/price.svg]   (~20 min on 2 cores)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { caffePreprocess } from '../src/core/preprocess-spec.js';
import { preprocessImage } from '../src/core/preprocess.js';
import { seededRandom } from '../training/data/random.js';
import { drawShape, SHAPE_CLASSES } from '../training/data/shapes.js';
import { toNhwc } from '../training/explain/gradcam.js';
import { writeExternalDataForm } from '../training/model-folder/external-data.js';
import { sha256OfBytes, writeFileAtomic, writeJsonAtomic } from '../training/model-folder/files.js';
import { buildManifest } from '../training/model-folder/manifest.js';
import { networkSummary } from '../training/model-folder/network.js';
import { setBatchNormStatistics } from '../training/network/batch-norm-statistics.js';
import { architectureOf, standardResNet, type ResNetDescription } from '../training/network/description.js';
import { gmacOf } from '../training/network/macs.js';
import { buildResNet } from '../training/network/resnet.js';
import { exportToOnnx } from '../training/onnx/export.js';
import { encodeModel } from '../training/onnx/proto.js';
import { quantizeStatic } from '../training/onnx/quantize.js';
import { MAX_SESSION_HEAP_MB, measureSessionHeapMb } from '../training/onnx/worker-fit.js';
import { l1Scores } from '../training/prune/rank.js';
import { pruneNetwork } from '../training/prune/slice.js';
import type { LayerWeights } from '../training/sources/layer-weights.js';
import { applyLayerWeights } from '../training/sources/layer-weights.js';
import { tf, useBackend } from '../training/tf/backend.js';
import { photoJpeg } from './lib/photo.js';
import { startWorker } from './lib/worker-server.js';

/** Workers AI's `@cf/microsoft/resnet-50`, per million images (the price to beat). */
const WORKERS_AI_USD_PER_MILLION = 2.51;
/** Workers Paid: $0.30 per million requests + $0.02 per million CPU-ms. */
const usdPerMillion = (cpuMs: number) => Math.round((0.3 + 0.02 * cpuMs) * 100) / 100;
const VARIANTS: Array<{ keep: number; size: number }> = [
  { keep: 1, size: 224 }, { keep: 0.75, size: 224 }, { keep: 0.5, size: 224 }, { keep: 0.35, size: 224 },
  { keep: 1, size: 192 }, { keep: 1, size: 160 }, { keep: 0.5, size: 160 }, { keep: 0.35, size: 160 },
];
const TIER_UP = 15;
const MEASURED = 20;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);

await useBackend('wasm');
const labels = Array.from({ length: 1000 }, (_, i) => `class_${i}`);
const weightsOf = (model: tf.LayersModel): LayerWeights =>
  new Map(model.layers.filter((l) => l.weights.length > 0).map((l) => [l.name, l.getWeights().map((t) => ({ shape: [...t.shape], data: Float32Array.from(t.dataSync()) }))]));

/** The unpruned network at `size`, as training would leave its statistics (depth.ts's recipe, one seed for all). */
function unpruned(size: number): { description: ResNetDescription; weights: LayerWeights } {
  const description = standardResNet({ inputSize: size, classes: 1000, head: 'keras' });
  const model = buildResNet(description, { seed: 50 });
  const random = seededRandom(31337);
  const spec = caffePreprocess(size, size);
  const drawn = (n: number) => Array.from({ length: n }, (_, i) => toNhwc(preprocessImage({ width: size, height: size, channels: 4, data: drawShape(SHAPE_CLASSES[i % 5]!, size, random).rgba, orientation: 1 }, spec), size, size));
  const batch = tf.concat(drawn(4)) as tf.Tensor4D;
  setBatchNormStatistics(model, batch);
  batch.dispose();
  const weights = weightsOf(model);
  model.dispose();
  return { description, weights };
}

/** Builds, re-centres the classifier (random weights answer one class everywhere otherwise), exports, quantizes, writes the folder. */
async function writeVariant(dir: string, d: ResNetDescription, weights: LayerWeights, keep: number) {
  const size = d.inputSize;
  const spec = caffePreprocess(size, size);
  const random = seededRandom(4242);
  const images = (n: number) => Array.from({ length: n }, (_, i) => preprocessImage({ width: size, height: size, channels: 4, data: drawShape(SHAPE_CLASSES[i % 5]!, size, random).rgba, orientation: 1 }, spec));
  const model = buildResNet(d, { seed: 1 });
  applyLayerWeights(model, weights);
  const features = tf.model({ inputs: model.inputs, outputs: model.getLayer('avg_pool').output as tf.SymbolicTensor });
  const [kernel] = model.getLayer('predictions').getWeights();
  const logits = tf.concat(images(8).map((p) => tf.matMul(features.predict(toNhwc(p, size, size)) as tf.Tensor2D, kernel as tf.Tensor2D)));
  const mean = tf.mean(logits, 0);
  const spread = tf.moments(tf.sub(logits, mean)).variance.sqrt().dataSync()[0]!;
  model.getLayer('predictions').setWeights([tf.mul(kernel!, 3 / spread), tf.mul(mean, -3 / spread)]);
  await Promise.all(model.weights.map((w) => w.read().data()));
  const fp32 = exportToOnnx(model);
  model.dispose();
  const { model: int8, summary } = await quantizeStatic(fp32, images(16), [1, 3, size, size], { method: 'percentile' });
  const int8Bytes = encodeModel(int8);
  const fp32Bytes = encodeModel(fp32);
  await writeFileAtomic(join(dir, 'model-int8.onnx'), int8Bytes);
  await writeFileAtomic(join(dir, 'model-fp32.onnx'), fp32Bytes);
  const manifest = buildManifest({
    name: `resnet50-${size}-keep${keep}`, version: '0.0.0', file: 'model-int8.onnx', bytes: int8Bytes, sha256: sha256OfBytes(int8Bytes), preprocess: spec, labels, quantization: summary, metrics: {},
    architecture: architectureOf(d), network: networkSummary(d), reference: { file: 'model-fp32.onnx', sha256: sha256OfBytes(fp32Bytes), bytes: fp32Bytes.byteLength },
    externalData: await writeExternalDataForm(dir, 'model-int8.onnx', int8Bytes, { tensors: images(4), dims: [1, 3, size, size] }),
  });
  await writeJsonAtomic(join(dir, 'manifest.json'), manifest);
  return int8Bytes.byteLength;
}

const rows: Record<string, number | boolean>[] = [];
const bases = new Map<number, ReturnType<typeof unpruned>>();
for (const { keep, size } of VARIANTS) {
  const base = bases.get(size) ?? unpruned(size);
  bases.set(size, base);
  // Structure as `prune --epochs 0 --by l1` leaves it (on random weights the criterion only decides which channels go).
  const variant = keep === 1 ? base : pruneNetwork(base.description, base.weights, l1Scores(base.description, base.weights), keep);
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
      keep, input: size, gmac: gmacOf(variant.description), int8_mb: round(int8Bytes / 2 ** 20), workerd_infer_p50_ms: round(median(inference)),
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
  const dots = points.map((p) => `<circle cx="${x(p.gmac as number)}" cy="${y(p.usd_per_million as number)}" r="4" fill="#1f5fbf"/><text x="${x(p.gmac as number) + 6}" y="${y(p.usd_per_million as number) - 6}" font-size="11">${p.input} px, keep ${p.keep}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>
<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" stroke="black"/><line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" stroke="black"/>${ticksX}${ticksY}
<text x="${(w + left) / 2}" y="${h - 12}" text-anchor="middle" font-size="13">GMAC per image (int8 ResNet50, bottleneck widths pruned)</text>
<text x="16" y="${(h - bottom) / 2}" transform="rotate(-90 16 ${(h - bottom) / 2})" text-anchor="middle" font-size="13">$ per million images, Workers Paid</text>
${line(WORKERS_AI_USD_PER_MILLION, `Workers AI resnet-50: $${WORKERS_AI_USD_PER_MILLION}`, '#c0392b')}${line(1, '$1', '#7f8c8d')}${dots}</svg>
`;
}

const result = {
  command: 'npx tsx bench/price.ts --json bench/results/price.json --svg bench/results/price.svg',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
  network: 'Keras ResNet50 v1, 1000-class head, random weights (structure and speed only)',
  pricing: { usd_per_million_requests: 0.3, usd_per_million_cpu_ms: 0.02, workers_ai_usd_per_million: WORKERS_AI_USD_PER_MILLION },
  tier_up_requests: TIER_UP,
  measured_requests: MEASURED,
  max_session_heap_mb: round(MAX_SESSION_HEAP_MB),
  rows,
};
const json = arg('--json');
if (json) await writeJsonAtomic(json, result);
const svg = arg('--svg');
if (svg) await writeFileAtomic(svg, plot(rows));
