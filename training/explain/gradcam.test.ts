/**
 * Grad-CAM on fixture networks. (1) A network whose answer depends on one image region only (its features are
 * zeroed outside the top-left quadrant before pooling): the map must put its heat there, though the image has the
 * same pattern in all four quadrants. (2) ResNet50 cut at its block outputs: the cut network computes what the
 * whole one does, and a wrong cut (not a cut point) is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildResNet50 } from '../network/resnet.js';
import { tf, useBackend } from '../tf/backend.js';
import { depthOf } from './float-model.js';
import { cutAt, defaultCamLayer, gradCam, resizeMap, stageOutputs } from './gradcam.js';

/** Multiplies its input by a fixed 0/1 spatial mask (1 in the top-left quadrant). */
class TopLeftOnly extends tf.layers.Layer {
  static className = 'TopLeftOnly';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const [, h, w] = x.shape as number[];
    const mask = tf.tensor4d(Array.from({ length: h! * w! }, (_, i) => (Math.floor(i / w!) < h! / 2 && i % w! < w! / 2 ? 1 : 0)), [1, h!, w!, 1]);
    return tf.mul(x, mask);
  }
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('Grad-CAM', () => {
  it('finds the one region a fixture network answers from', () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const features = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'features', kernelInitializer: tf.initializers.randomUniform({ minval: 0, maxval: 1, seed: 3 }) }).apply(input) as tf.SymbolicTensor;
    const relu = tf.layers.reLU({ name: 'features_relu' }).apply(features) as tf.SymbolicTensor;
    const target = new TopLeftOnly({ name: 'target' }).apply(relu) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(target) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'predictions', kernelInitializer: tf.initializers.constant({ value: 0.5 }) }).apply(pooled) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    model.getLayer('predictions').setWeights([tf.tensor2d([1, -1, 1, -1, 1, -1, 1, -1], [4, 2]), tf.zeros([2])]);
    // The same bright square in every quadrant, on black.
    const pixels = new Float32Array(16 * 16 * 3);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) if (x % 8 >= 2 && x % 8 < 6 && y % 8 >= 2 && y % 8 < 6) pixels.fill(100, (y * 16 + x) * 3, (y * 16 + x) * 3 + 3);
    const cam = gradCam(cutAt(model, 'target'), tf.tensor4d(pixels, [1, 16, 16, 3]), 0);
    const quadrant = (qx: number, qy: number) => {
      let sum = 0;
      for (let y = qy * 8; y < qy * 8 + 8; y++) for (let x = qx * 8; x < qx * 8 + 8; x++) sum += cam.map[y * 16 + x]!;
      return sum;
    };
    expect(cam.width).toBe(16);
    expect(quadrant(0, 0)).toBeGreaterThan(0);
    expect(quadrant(1, 0) + quadrant(0, 1) + quadrant(1, 1)).toBe(0);
    // And the heat sits on the square, not on the black around it.
    expect(cam.map[4 * 16 + 4]).toBeGreaterThan(cam.map[0]!);
  });

  it('cuts ResNet50 at a block output without changing what it computes; refuses a layer that is not a cut point', () => {
    const model = buildResNet50({ inputSize: 64, classes: 3, seed: 4 });
    const x = tf.randomNormal([1, 64, 64, 3], 0, 40, 'float32', 1) as tf.Tensor4D;
    const want = (model.predict(x) as tf.Tensor).dataSync();
    for (const layer of ['conv5_block3_out', 'conv3_block4_out']) {
      const cam = gradCam(cutAt(model, layer), x);
      Array.from(cam.probabilities).forEach((p, i) => expect(p).toBeCloseTo(want[i]!, 5));
      expect(Math.max(...cam.map)).toBeLessThanOrEqual(1);
    }
    expect(defaultCamLayer(model)).toBe('conv4_block6_out'); // 64 px: conv5 is 2×2, conv4 4×4
    expect(defaultCamLayer(buildResNet50({ inputSize: 224, classes: 3 }))).toBe('conv5_block3_out');
    expect(() => cutAt(model, 'conv3_block4_1_conv')).toThrow(/cut point/);
    expect(Array.from(resizeMap(Float32Array.from([0, 1]), 2, 1, 4, 1))).toEqual([0, 0.25, 0.75, 1]);
  });

  it('finds each stage output and the depth of deeper ResNets by their Keras names', () => {
    const deep = buildResNet50({ inputSize: 64, classes: 3, depth: 101 });
    expect(stageOutputs(deep)).toEqual(['conv5_block3_out', 'conv4_block23_out', 'conv3_block4_out', 'conv2_block3_out']);
    expect(depthOf(deep.layers.map((l) => l.name))).toBe(101);
    expect(depthOf(buildResNet50({ inputSize: 32, classes: 3, depth: 152 }).layers.map((l) => l.name))).toBe(152);
    expect(depthOf(buildResNet50({ inputSize: 32, classes: 3 }).layers.map((l) => l.name))).toBe(50);
    expect(() => depthOf(['conv3_block2_1_conv', 'conv4_block9_1_conv'])).toThrow(/no ResNet/);
  });
});
