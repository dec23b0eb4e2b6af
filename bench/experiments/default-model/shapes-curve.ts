/**
 * `npx tsx bench/experiments/default-model/shapes-curve.ts [--steps 3000] [--batch 32]`: how many samples the shapes task needs, measured
 * on a 6-layer CNN with BatchNorm (Adam 1e-3, fresh shapes every step, 32 px, the default model's
 * preprocessing): test accuracy on 200 held-out shapes every 25 steps. A yardstick for the ResNet50 recipe.
 */
import { drawShape, SHAPE_CLASSES } from '../../../training/data/shapes.js';
import { seededRandom } from '../../../training/data/random.js';
import { tf, useBackend } from '../../../training/tf/backend.js';
import { preprocessImage } from '../../../src/core/preprocess.js';
import { caffePreprocess } from '../../../src/core/preprocess-spec.js';
import { transposeInto } from '../../../training/train/augment.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const S = 32;
const steps = arg('--steps', 3000);
const batchSize = arg('--batch', 32);
await useBackend('wasm');
const spec = caffePreprocess(S, S);
const random = seededRandom(7);

function batch(n: number) {
  const xs = new Float32Array(n * S * S * 3);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = random.int(0, SHAPE_CLASSES.length);
    labels.push(label);
    const img = drawShape(SHAPE_CLASSES[label]!, random.int(48, 128), random);
    const chw = preprocessImage({ width: img.width, height: img.height, channels: 4, data: img.rgba, orientation: 1 }, spec);
    transposeInto(chw, S, S, xs, i * S * S * 3);
  }
  return { x: tf.tensor4d(xs, [n, S, S, 3]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), SHAPE_CLASSES.length) };
}

const input = tf.input({ shape: [S, S, 3] });
let h = input;
for (const [filters, strides] of [[32, 1], [64, 2], [64, 1], [128, 2], [128, 1], [256, 2]] as const) {
  h = tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: false }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ momentum: 0.9 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
}
h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: SHAPE_CLASSES.length, activation: 'softmax' }).apply(h) as tf.SymbolicTensor });
const optimizer = tf.train.adam(1e-3);
const test = batch(200);
let lossSum = 0;
const started = Date.now();
for (let step = 1; step <= steps; step++) {
  const { x, y } = batch(batchSize);
  const loss = optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true)!;
  lossSum += loss.dataSync()[0]!;
  tf.dispose([x, y, loss]);
  if (step % 25 === 0) {
    const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(test.x) as tf.Tensor, 1), tf.argMax(test.y, 1)), 'float32')).dataSync()[0]!);
    console.log(`step ${step}  loss ${(lossSum / 25).toFixed(3)}  test ${accuracy.toFixed(3)}  ${((Date.now() - started) / step / 1000).toFixed(2)} s/step`);
    lossSum = 0;
  }
}
