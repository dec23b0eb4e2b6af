/**
 * Deeper variants at 224 px, as the pipeline would ship them: ResNet101 and ResNet152, beside ResNet50 under the
 * same test (Keras stage tables, the Keras 1000-class head, random weights with batch-norm statistics measured on drawn images, as training would
 * leave them, and the classifier re-centred so inputs get different answers: no pretrained weights offline)
 * exported to ONNX, checked against onnxruntime-node, quantized to int8 on drawn images, scored for int8↔fp32 agreement on others, then measured
 * as the Worker runs them: the session's wasm heap (a fresh process, as publish measures it), and in workerd the
 * warm inference time (no debugger) and whether publish's fit check lets it through.
 * Usage: npx tsx bench/depth.ts [--json bench/results/depth.json]   (~14 min on a 2-core machine)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { caffePreprocess } from '../src/core/preprocess-spec.js';
import { preprocessImage } from '../src/core/preprocess.js';
import { seededRandom } from '../training/data/random.js';
import { drawShape, SHAPE_CLASSES } from '../training/data/shapes.js';
import { agreement, predictAll } from '../training/evaluate/evaluate.js';
import { writeExternalDataForm } from '../training/model-folder/external-data.js';
import { sha256OfBytes, writeFileAtomic, writeJsonAtomic } from '../training/model-folder/files.js';
import { buildManifest } from '../training/model-folder/manifest.js';
import { setBatchNormStatistics } from '../training/network/batch-norm-statistics.js';
import { buildResNet50, type ResNetDepth } from '../training/network/resnet.js';
import { toNhwc } from '../training/explain/gradcam.js';
import { exportToOnnx } from '../training/onnx/export.js';
import { encodeModel } from '../training/onnx/proto.js';
import { quantizeStatic } from '../training/onnx/quantize.js';
import { MAX_SESSION_HEAP_MB, measureSessionHeapMb } from '../training/onnx/worker-fit.js';
import { createNodeSession } from '../training/ort/node.js';
import { tf, useBackend } from '../training/tf/backend.js';
import { startWorker } from './lib/worker-server.js';
import { photoJpeg } from './lib/photo.js';

const SIZE = 224;
// 99 % agreement must be measurable: at most 2 of 200 answers may differ.
const HELD_OUT = 200;
const spec = caffePreprocess(SIZE, SIZE);
// Every network sees the same images: the draws restart for each depth (reseeded at the top of its loop).
let random = seededRandom(31337);
const images = (n: number) => Array.from({ length: n }, (_, i) => {
  const s = drawShape(SHAPE_CLASSES[i % SHAPE_CLASSES.length]!, SIZE, random);
  return preprocessImage({ width: SIZE, height: SIZE, channels: 4, data: s.rgba, orientation: 1 }, spec);
});
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const labels = Array.from({ length: 1000 }, (_, i) => `class_${i}`);
const rows: Record<string, unknown>[] = [];
await useBackend('wasm');
const jpeg = await photoJpeg(SIZE, SIZE);
// ResNet50, the depth the pipeline ships, goes through the same test first: the baseline the deeper ones compare to.
for (const depth of [50, 101, 152] as ResNetDepth[]) {
  random = seededRandom(31337);
  const dir = mkdtempSync(join(tmpdir(), `resnet${depth}-`));
  try {
    const model = buildResNet50({ inputSize: SIZE, classes: 1000, head: 'keras', depth, seed: depth });
    // Initial statistics (mean 0, variance 1) normalise nothing: scales drift block after block and deep features
    // barely differ between inputs. Measured on drawn images, every layer normalises as in a trained network.
    const statisticsBatch = tf.concat(images(4).map((p) => toNhwc(p, SIZE, SIZE))) as tf.Tensor4D;
    setBatchNormStatistics(model, statisticsBatch);
    statisticsBatch.dispose();
    // Random weights give every input nearly the same features, so one class wins everywhere (agreement would be
    // trivial): re-centre and scale the classifier on a few images, so that the logits' variation *between images*
    // decides the answer (bias = −mean logit per class) with a spread of 3.
    const features = tf.model({ inputs: model.inputs, outputs: model.getLayer('avg_pool').output as tf.SymbolicTensor });
    const calibrationProbes = images(16).map((p) => toNhwc(p, SIZE, SIZE));
    const [kernel] = model.getLayer('predictions').getWeights();
    const logits = tf.concat(calibrationProbes.map((x) => tf.matMul(features.predict(x) as tf.Tensor2D, kernel as tf.Tensor2D)));
    const mean = tf.mean(logits, 0);
    const spread = tf.moments(tf.sub(logits, mean)).variance.sqrt().dataSync()[0]!;
    model.getLayer('predictions').setWeights([tf.mul(kernel!, 3 / spread), tf.mul(mean, -3 / spread)]);
    await Promise.all(model.weights.map((w) => w.read().data()));
    const fp32 = exportToOnnx(model);
    const fp32Bytes = encodeModel(fp32);
    // Parity: the exported graph in onnxruntime-node against the tfjs network it came from.
    const probes = images(3);
    const session = await createNodeSession(fp32Bytes);
    let parity = 0;
    for (const p of probes) {
      const want = (model.predict(toNhwc(p, SIZE, SIZE)) as tf.Tensor).dataSync();
      const got = (await session.run(p, [1, 3, SIZE, SIZE]))[session.outputNames[0]!]!.data;
      parity = Math.max(parity, ...Array.from(got, (v, i) => Math.abs(v - want[i]!)));
    }
    await session.release();
    model.dispose();
    const { model: int8, summary } = await quantizeStatic(fp32, images(32), [1, 3, SIZE, SIZE], { method: 'percentile' });
    const int8Bytes = encodeModel(int8);
    const heldOut = images(HELD_OUT);
    const p32 = await predictAll(fp32Bytes, heldOut, spec, { engine: 'native' });
    const p8 = await predictAll(int8Bytes, heldOut, spec);
    await writeFileAtomic(join(dir, 'model-int8.onnx'), int8Bytes);
    await writeFileAtomic(join(dir, 'model-fp32.onnx'), fp32Bytes);
    const manifest = buildManifest({
      name: `resnet${depth}-random`, version: '0.0.0', file: 'model-int8.onnx', bytes: int8Bytes, sha256: sha256OfBytes(int8Bytes), preprocess: spec, labels, quantization: summary,
      metrics: {}, architecture: `resnet${depth}`, reference: { file: 'model-fp32.onnx', sha256: sha256OfBytes(fp32Bytes), bytes: fp32Bytes.byteLength },
      externalData: await writeExternalDataForm(dir, 'model-int8.onnx', int8Bytes, { tensors: heldOut.slice(0, 8), dims: [1, 3, SIZE, SIZE] }),
    });
    await writeJsonAtomic(join(dir, 'manifest.json'), manifest);
    const heap = await measureSessionHeapMb(dir, join(dir, 'fit-cache'));
    const worker = await startWorker(dir, [], { noFitCheck: true });
    const inference: number[] = [];
    try {
      for (let i = 0; i < 25; i++) {
        const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg });
        const body = (await res.json()) as { timing: { inference_ms: number } };
        if (res.status !== 200) throw new Error(`resnet${depth}: /predict answered ${res.status}: ${JSON.stringify(body)}`);
        inference.push(body.timing.inference_ms);
      }
    } finally {
      await worker.stop();
    }
    const warm = inference.slice(10).sort((a, b) => a - b);
    const row = {
      depth, parameters: fp32.graph!.initializer!.reduce((n, t) => n + (t.dims ?? []).map(Number).reduce((a, b) => a * b, 1), 0), int8_bytes: int8Bytes.byteLength,
      onnx_parity_max_abs: Number(parity.toExponential(2)), int8_agreement: agreement(p8.predicted, p32.predicted), agreement_images: heldOut.length,
      distinct_fp32_answers: new Set(p32.predicted).size, wasm_heap_mb: heap, fits_worker: heap <= MAX_SESSION_HEAP_MB, workerd_infer_p50_ms: round(warm[Math.floor(warm.length / 2)]!),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const result = { command: 'npx tsx bench/depth.ts --json bench/results/depth.json', date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length }, input: SIZE, max_session_heap_mb: round(MAX_SESSION_HEAP_MB), rows };
const json = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
if (json) await writeJsonAtomic(json, result);
