import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../tf/backend.js';
import { setBatchNormStatistics } from './batch-norm-statistics.js';
import { buildResNet50 } from './resnet.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Per-channel mean and variance, averaged over channels, of `layer`'s inference-mode output on `images`. */
function outputMoments(model: tf.LayersModel, layer: string, images: tf.Tensor4D): { mean: number; variance: number } {
  return tf.tidy(() => {
    const probe = tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor });
    const y = probe.predict(images) as tf.Tensor4D;
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    return { mean: tf.mean(tf.abs(mean)).dataSync()[0]!, variance: tf.mean(variance).dataSync()[0]! };
  });
}

describe('setBatchNormStatistics', () => {
  it('makes every batch-norm layer normalise its input on the images (mean 0, variance 1 per channel), deep layers included', () => {
    const model = buildResNet50({ inputSize: 64, classes: 3, head: 'keras', seed: 5, bnMomentum: 0.9 });
    const images = tf.randomNormal([6, 64, 64, 3], 0, 40, 'float32', 7) as tf.Tensor4D;
    const probed = ['conv1_bn', 'conv3_block2_2_bn', 'conv5_block3_3_bn'];
    // Negative control: with the initial statistics (mean 0, variance 1) deep layers are far from normalised.
    const before = probed.map((name) => outputMoments(model, name, images));
    expect(Math.max(...before.map((m) => Math.abs(m.variance - 1)))).toBeGreaterThan(0.5);

    setBatchNormStatistics(model, images);
    for (const name of probed) {
      const { mean, variance } = outputMoments(model, name, images);
      expect(mean, name).toBeLessThan(1e-3);
      expect(Math.abs(variance - 1), name).toBeLessThan(0.02);
    }
    // The layers' momentum is what it was (later training keeps its averaging).
    expect((model.getLayer('conv4_block1_1_bn') as unknown as { momentum: number }).momentum).toBe(0.9);
    images.dispose();
    model.dispose();
  });
});

describe('unfolding a BN that an export folded into its convolution', () => {
  it('keeps the inference outputs, and makes training mode compute what inference does', async () => {
    const { exportToOnnx } = await import('../onnx/export.js');
    const { recognizeResNet } = await import('../sources/recognize.js');
    const { readOnnxGraph } = await import('../sources/onnx-graph.js');
    const { applyLayerWeights } = await import('../sources/layer-weights.js');
    const { isFoldedBatchNorm, unfoldBatchNorm } = await import('./batch-norm-statistics.js');
    const { buildResNet } = await import('./resnet.js');
    const source = buildResNet50({ inputSize: 32, classes: 3, head: 'keras', seed: 5 });
    const images = tf.randomNormal([8, 32, 32, 3], 0, 30, 'float32', 9) as tf.Tensor4D;
    setBatchNormStatistics(source, images);
    await Promise.all(source.weights.map((w) => w.read().data()));
    const read = recognizeResNet(readOnnxGraph(exportToOnnx(source), 'export.onnx').graph);
    const folded = [...read.weights].filter(([name, w]) => name.endsWith('_bn') && isFoldedBatchNorm(w.map((a) => a.data), read.description.bnEpsilon)).map(([name]) => name);
    expect(folded).toHaveLength(53); // every trunk BN of a ResNet50
    const rebuilt = () => {
      const m = buildResNet({ ...read.description, inputSize: 32 });
      applyLayerWeights(m, read.weights);
      return m;
    };
    const gap = (m: tf.LayersModel) => tf.tidy(() => tf.max(tf.abs(tf.sub(m.apply(images, { training: true }) as tf.Tensor, m.predict(images) as tf.Tensor))).dataSync()[0]!);
    const unfolded = rebuilt();
    const nchw = tf.unstack(images.transpose([0, 3, 1, 2])).map((t) => Float32Array.from(t.dataSync()));
    unfoldBatchNorm(unfolded, folded, nchw, [32, 32], 3);
    const want = (source.predict(images) as tf.Tensor).dataSync();
    const got = (unfolded.predict(images) as tf.Tensor).dataSync();
    // Float32 rounding of (x − m)·1 + m through 53 layers: well under the 1e-3 the import check allows.
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!)))).toBeLessThan(2e-3);
    expect(gap(unfolded)).toBeLessThan(0.05);
    [source, unfolded].forEach((m) => m.dispose());
    images.dispose();
  });
});
