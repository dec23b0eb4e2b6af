/**
 * `npx tsx bench/experiments/default-model/recipe-sweep.ts --variant NAME [--minutes 8]`: one candidate recipe for the default model,
 * trained data-parallel (2 workers) on freshly drawn shapes for a fixed wall-clock budget, with held-out
 * accuracy every 25 steps. Run several variants side by side on a many-core machine to compare learning
 * curves (bash bench/recipe-sweep-bundle.sh packs it for a machine without Node). Writes JSON to --out.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';
import { preprocessImage } from '../../../src/core/preprocess.js';
import { caffePreprocess } from '../../../src/core/preprocess-spec.js';
import { seededRandom } from '../../../training/data/random.js';
import { drawShape, SHAPE_CLASSES } from '../../../training/data/shapes.js';
import { trainableParameterCount } from '../../../training/network/resnet.js';
import { useBackend } from '../../../training/tf/backend.js';
import { runFitWorker, type FitWorkerData } from '../../../training/train/fit-worker.js';
import { fitDataParallel } from '../../../training/train/parallel-fit.js';

interface Variant {
  inputSize: number;
  lr: number;
  warmup: number;
  gamma: number;
  batchPerWorker: number;
  bnMomentum: number;
  rotation: number;
}
const BASE: Variant = { inputSize: 32, lr: 1e-4, warmup: 10, gamma: 0.2, batchPerWorker: 16, bnMomentum: 0.9, rotation: 180 };
const VARIANTS: Record<string, Partial<Variant>> = {
  base: {},
  lr3e4: { lr: 3e-4, warmup: 30 },
  lr1e3: { lr: 1e-3, warmup: 60 },
  gamma1: { gamma: 1 },
  gamma05: { gamma: 0.5 },
  gamma1lr3e4: { gamma: 1, lr: 3e-4, warmup: 30 },
  px48: { inputSize: 48 },
  b32: { batchPerWorker: 32, lr: 2e-4, warmup: 20 },
};

if (!isMainThread) {
  await runFitWorker(workerData as FitWorkerData);
} else {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1]! : fallback;
  };
  const name = arg('--variant', 'base');
  const minutes = Number(arg('--minutes', '8'));
  const out = arg('--out', `sweep-${name}.json`);
  const v: Variant = { ...BASE, ...VARIANTS[name] };
  const spec = caffePreprocess(v.inputSize, v.inputSize);
  const draw = (count: number, seed: number) => {
    const random = seededRandom(seed);
    const tensors: Float32Array[] = [];
    const labels: number[] = [];
    for (let i = 0; i < count; i++) {
      const label = i % SHAPE_CLASSES.length;
      const img = drawShape(SHAPE_CLASSES[label]!, random.int(64, 161), random);
      tensors.push(preprocessImage({ width: img.width, height: img.height, channels: 4, data: img.rgba, orientation: 1 }, spec));
      labels.push(label);
    }
    return { tensors, labels };
  };
  const t0 = Date.now();
  const train = draw(Number(arg('--images', '8000')), 11);
  const test = draw(250, 99);
  console.log(`${name}: ${train.tensors.length} shapes drawn in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await useBackend('wasm');
  const modelOptions = { inputSize: v.inputSize, classes: 5, bnMomentum: v.bnMomentum, zeroInitResidual: true, residualGamma: v.gamma, seed: 20261128 };
  const parameters = trainableParameterCount(modelOptions);
  // Steps that fit the budget, from a measured first few steps: estimated at 8 s/step first, corrected below.
  const steps = Number(arg('--steps', '100000'));
  const curve: Array<{ step: number; seconds: number; accuracy: number }> = [];
  const losses: number[] = [];
  const started = Date.now();
  const save = () => writeFileSync(out, JSON.stringify({ name, variant: v, curve, losses }, null, 1));
  const deadline = started + minutes * 60_000;
  await fitDataParallel({
    workers: 2,
    model: modelOptions,
    tensors: train.tensors,
    labelsOf: train.labels,
    parameters,
    width: v.inputSize,
    height: v.inputSize,
    classes: 5,
    batchPerWorker: v.batchPerWorker,
    steps,
    schedule: { base: v.lr, warmup: v.warmup, final: v.lr },
    augment: { rotation: v.rotation, widthShift: 0.08, heightShift: 0.08, zoom: 0.1, horizontalFlip: true },
    seed: 5,
    // Bundled (.mjs), this file is its own worker entry; under tsx the default boot script loads fit-worker.ts.
    workerEntry: import.meta.url.endsWith('.mjs') ? new URL(import.meta.url) : undefined,
    evaluation: {
      tensors: test.tensors,
      labels: test.labels,
      every: 25,
      onEvaluate: (step, accuracy) => {
        const seconds = (Date.now() - started) / 1000;
        curve.push({ step: step + 1, seconds, accuracy });
        console.log(`${name}: step ${step + 1}  ${seconds.toFixed(0)} s  held-out ${(accuracy * 100).toFixed(1)} %`);
        save();
        if (Date.now() > deadline) process.exit(0);
      },
    },
    onStep: (s) => losses.push(Number(s.loss.toFixed(4))),
  });
  save();
}
