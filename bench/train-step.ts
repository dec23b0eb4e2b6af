/**
 * `npx tsx bench/train-step.ts`: seconds per training step of the default model's recipe (ResNet50, batch 16 at
 * 32 px, Adam, tfjs wasm + our gradient kernels). Run two at once (`npx tsx bench/train-step.ts & npx tsx
 * bench/train-step.ts`) to see whether both cores can train side by side (the case for data parallelism).
 */
import { buildResNet50 } from '../training/model/resnet50.js';
import { tf, useBackend } from '../training/tf/backend.js';

await useBackend('wasm');
const model = buildResNet50({ inputSize: 32, classes: 5, bnMomentum: 0.9, zeroInitResidual: true, residualGamma: 0.2, seed: 1 });
const x = tf.randomNormal([16, 32, 32, 3], 0, 50);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 5), 'int32'), 5);
const optimizer = tf.train.adam(1e-4);
const step = () => {
  const loss = optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true)!;
  loss.dataSync();
  loss.dispose();
};
step(); // warm-up
const runs = 6;
const started = performance.now();
for (let i = 0; i < runs; i++) step();
console.log(`train step (ResNet50, batch 16, 32 px): ${((performance.now() - started) / runs).toFixed(0)} ms`);
