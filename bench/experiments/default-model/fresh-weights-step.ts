/**
 * `npx tsx bench/experiments/default-model/fresh-weights-step.ts`: one worker's training work on ResNet50 at 32 px (batch 16), with the
 * weights reloaded as new tensors before every pass, as the data-parallel trainer does after each update.
 * A fresh weight tensor is what makes tfjs' wasm Conv2D rebuild its cached XNNPACK operator; the "cached"
 * lines reuse the same tensors for comparison. Means of 5 runs after 2 warm-up runs.
 */
import { buildResNet50 } from '../../../training/network/resnet.js';
import { tf, useBackend } from '../../../training/tf/backend.js';
import { float32View } from '../../../training/tf/heap.js';

await useBackend('wasm');
const model = buildResNet50({ inputSize: 32, classes: 5, bnMomentum: 0.9, zeroInitResidual: true, residualGamma: 0.2, seed: 1 });
const x = tf.randomNormal([16, 32, 32, 3], 0, 50);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 5), 'int32'), 5);
const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
const copies = variables.map((v) => float32View(v).slice());
const reload = () => variables.forEach((v, i) => { const t = tf.tensor(copies[i]!, v.shape, 'float32'); v.assign(t); t.dispose(); });
const forward = () => { const p = model.apply(x, { training: true }) as tf.Tensor; p.dataSync(); p.dispose(); };
const forwardBackward = () => {
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, variables);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
const cases: Array<[string, () => void]> = [
  ['forward, cached weights', forward],
  ['forward, fresh weights', () => { reload(); forward(); }],
  ['forward + backward, cached weights', forwardBackward],
  ['forward + backward, fresh weights', () => { reload(); forwardBackward(); }],
];
for (const [name, run] of cases) {
  run();
  run();
  const started = performance.now();
  for (let i = 0; i < 5; i++) run();
  console.log(`${name}: ${((performance.now() - started) / 5).toFixed(0)} ms`);
}
