/**
 * `npx tsx bench/experiments/default-model/train-step.ts [--workers 2] [--batch 16] [--steps 8] [--size 32]`: seconds per training step of the
 * default model's recipe (ResNet50 at 32 px unless --size says otherwise, Adam, tfjs wasm + our kernels) through the data-parallel trainer that
 * `npm run model` uses, on random images; `--workers 1` is the one-thread figure. The first two steps (warm-up)
 * are left out of the mean.
 */
import { trainableParameterCount } from '../../../training/network/resnet.js';
import { useBackend } from '../../../training/tf/backend.js';
import { fitDataParallel } from '../../../training/train/parallel-fit.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const workers = arg('--workers', 2);
const batch = arg('--batch', 16);
const steps = arg('--steps', 8);
const size = arg('--size', 32);
await useBackend('wasm');
const model = { inputSize: size, classes: 5, bnMomentum: 0.9, zeroInitResidual: true, residualGamma: 0.2, seed: 1 };
const parameters = trainableParameterCount(model);
const tensors = Array.from({ length: 256 }, (_, i) => Float32Array.from({ length: 3 * size * size }, (_, k) => Math.sin(k * 0.37 + i) * 60));
const seconds: number[] = [];
await fitDataParallel({
  workers, model, tensors, labelsOf: tensors.map((_, i) => i % 5), parameters, width: size, height: size, classes: 5,
  batchPerWorker: batch, steps, schedule: { base: 1e-4, warmup: 2, final: 1e-5 }, augment: null, seed: 3,
  onStep: (s) => seconds.push(s.seconds),
});
const timed = seconds.slice(2);
const mean = timed.reduce((a, b) => a + b, 0) / timed.length;
console.log(`train step (ResNet50, ${size} px, ${workers} worker(s) × ${batch} images): ${mean.toFixed(2)} s/step, ${((workers * batch) / mean).toFixed(1)} images/s`);
