import { beforeAll, describe, expect, it } from 'vitest';
import { buildResNet50 } from '../network/resnet.js';
import { tf, useBackend } from '../tf/backend.js';
import { freezeLayers, splitAtFrozenBoundary, unfreezeForFineTuning } from './freeze.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Moving statistics far from a batch's own, so inference-mode and training-mode BN differ visibly. */
function setBnStatistics(model: tf.LayersModel) {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const [gamma, beta, mean, variance] = layer.getWeights();
    layer.setWeights([gamma!, beta!, tf.fill(mean!.shape, 0.3), tf.fill(variance!.shape, 2)]);
  }
}

describe('the freeze rule (Keras layer indexing)', () => {
  it('freezes exactly model.layers[0..n): 150 leaves conv5_block1_0_bn and everything after trainable', () => {
    const model = buildResNet50({ inputSize: 32, classes: 3 });
    freezeLayers(model, 150);
    const trainable = model.layers.filter((l) => l.trainable).map((l) => l.name);
    expect(model.layers[149]!.name).toBe('conv5_block1_0_conv');
    expect(model.layers[149]!.trainable).toBe(false);
    expect(trainable[0]).toBe('conv5_block1_3_conv');
    expect(trainable).toContain('conv5_block1_0_bn');
    expect(trainable).not.toContain('conv4_block6_out');
    // Trainable weights: only the layers from index 150 on.
    const expected = model.layers.slice(150).reduce((n, l) => n + l.trainableWeights.length, 0);
    expect(model.trainableWeights).toHaveLength(expected);
    expect(() => freezeLayers(model, 999)).toThrow(RangeError);
    model.dispose();
  });

  it('a frozen BatchNormalization normalises with its moving statistics even when training', () => {
    const model = buildResNet50({ inputSize: 32, classes: 3, seed: 4 });
    setBnStatistics(model);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 50, 'float32', 1);
    const bn = model.getLayer('conv1_bn');
    const probe = tf.model({ inputs: model.inputs, outputs: bn.output as tf.SymbolicTensor });
    const trainingBefore = probe.apply(x, { training: true }) as tf.Tensor;
    const inference = probe.apply(x, { training: false }) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(trainingBefore, inference))).dataSync()[0]).toBeGreaterThan(1e-2); // a live BN uses batch statistics
    freezeLayers(model, 150);
    const trainingFrozen = probe.apply(x, { training: true }) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(trainingFrozen, inference))).dataSync()[0]).toBeLessThan(1e-5);
    // Stage 2 unfreezes the weights, but that BN keeps its inference mode; a BN that was never frozen does not.
    unfreezeForFineTuning(model, 150);
    expect(bn.trainable).toBe(true);
    expect(tf.max(tf.abs(tf.sub(probe.apply(x, { training: true }) as tf.Tensor, inference))).dataSync()[0]).toBeLessThan(1e-5);
    model.dispose();
  });

  it('splits at the boundary into prefix → suffix that computes what the whole network computes', () => {
    const model = buildResNet50({ inputSize: 32, classes: 3, seed: 9 });
    setBnStatistics(model);
    freezeLayers(model, 150);
    const { frontier, prefix, suffix } = splitAtFrozenBoundary(model, 150);
    // The cut crosses conv5_block1: its main branch (after 2_relu) and its shortcut conv both cross.
    expect(frontier.map((t) => t.sourceLayer.name).sort()).toEqual(['conv5_block1_0_conv', 'conv5_block1_2_relu']);
    expect(suffix.layers.every((l) => l.getClassName() === 'InputLayer' || l.trainable)).toBe(true);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 50, 'float32', 2);
    const whole = model.predict(x) as tf.Tensor;
    const features = prefix.predict(x) as tf.Tensor[];
    const viaSplit = suffix.predict(features) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(whole, viaSplit))).dataSync()[0]).toBeLessThan(1e-6);
    // Training the suffix moves the shared weights of the whole model.
    const before = model.getLayer('predictions').getWeights()[0]!.dataSync().slice();
    const optimizer = tf.train.sgd(0.1);
    const y = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(y, suffix.apply(features, { training: true }) as tf.Tensor)) as tf.Scalar);
    const after = model.getLayer('predictions').getWeights()[0]!.dataSync();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    model.dispose();
  });
});
