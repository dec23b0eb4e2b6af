import { beforeAll, describe, expect, it } from 'vitest';
import { setBatchNormStatistics } from '../network/batch-norm-statistics.js';
import { buildResNet50 } from '../network/resnet.js';
import { tf, useBackend } from '../tf/backend.js';
import { freezeLayers } from './freeze.js';
import type { BatchSource } from './loop.js';
import { refreshBatchNorm } from './refresh-batch-norm.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** `images` as a source of un-augmented batches (labels unused). */
function sourceOf(images: tf.Tensor4D): BatchSource {
  return {
    count: images.shape[0],
    batch: (indices) => ({ xs: [tf.gather(images, indices)], y: tf.zeros([indices.length, 3]) as tf.Tensor2D }),
  };
}

/** What a fine-tune does to a layer's input, exaggerated: every convolution's kernel rescaled by its own factor (0.3–3) and nudged. */
function moveConvolutions(model: tf.LayersModel, seed: number) {
  let k = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Conv2D') continue;
    const [kernel, ...rest] = layer.getWeights();
    const factor = 0.3 * 10 ** ((k++ * 0.618) % 1);
    layer.setWeights([tf.tidy(() => tf.add(tf.mul(kernel!, factor), tf.randomNormal(kernel!.shape, 0, 0.01, 'float32', seed + k))), ...rest]);
  }
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
const scale = (a: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]!);

describe('refreshBatchNorm: the moving statistics of the network as it now is', () => {
  it('after the weights moved, inference computes what training mode computes on the same images; before the refresh it does not', () => {
    const model = buildResNet50({ inputSize: 32, classes: 3, head: 'keras', seed: 5 });
    const images = tf.randomNormal([16, 32, 32, 3], 0, 40, 'float32', 7) as tf.Tensor4D;
    setBatchNormStatistics(model, images);
    moveConvolutions(model, 11);
    const trunk = tf.model({ inputs: model.inputs, outputs: model.getLayer('conv5_block3_out').output as tf.SymbolicTensor });
    // Training mode normalises by the batch's own statistics: what the network computes for this whole set.
    const momenta = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l as unknown as { momentum: number });
    momenta.forEach((l) => (l.momentum = 1)); // a reference pass that leaves the moving statistics alone
    const training = trunk.apply(images, { training: true }) as tf.Tensor;
    momenta.forEach((l) => (l.momentum = 0.99));
    const stale = trunk.predict(images) as tf.Tensor;
    expect(maxDiff(stale, training) / scale(training)).toBeGreaterThan(0.1); // negative control: the old statistics are wrong

    expect(refreshBatchNorm(model, sourceOf(images), 16, 16, 1)).toBe(16);
    const fresh = trunk.predict(images) as tf.Tensor;
    expect(maxDiff(fresh, training) / scale(training)).toBeLessThan(1e-3);
    expect(momenta.every((l) => l.momentum === 0.99)).toBe(true); // training afterwards keeps its averaging
    tf.dispose([training, stale, fresh, images]);
    model.dispose();
  });

  it('over several batches each statistic is the average of the batches\' (the first replaces the old value); a frozen BN keeps its own', () => {
    const model = buildResNet50({ inputSize: 32, classes: 3, head: 'keras', seed: 6 });
    const images = tf.randomNormal([12, 32, 32, 3], 5, 30, 'float32', 8) as tf.Tensor4D;
    const frozenBefore = model.getLayer('conv1_bn').getWeights()[2]!.dataSync().slice();
    // The stem is frozen: its BN stays in inference mode and keeps mean 0; every later BN is live.
    freezeLayers(model, 4);
    refreshBatchNorm(model, sourceOf(images), 12, 4, 2);
    expect(Array.from(model.getLayer('conv1_bn').getWeights()[2]!.dataSync())).toEqual(Array.from(frozenBefore));
    // conv2_block1_1_bn's input depends on the frozen stem only: the same whatever the batches. Its moving mean is
    // the mean of the batch means, which for equal batches is the mean over all 12 images' positions.
    const layer = model.getLayer('conv2_block1_1_bn');
    const probe = tf.model({ inputs: model.inputs, outputs: layer.input as tf.SymbolicTensor });
    const expected = tf.tidy(() => tf.mean(probe.predict(images) as tf.Tensor, [0, 1, 2]));
    const movingMean = layer.getWeights()[2]!;
    expect(maxDiff(movingMean, expected) / scale(expected)).toBeLessThan(1e-4);
    expect(scale(expected)).toBeGreaterThan(1e-3); // not trivially 0 = 0
    tf.dispose([expected, images]);
    model.dispose();
  });
});
