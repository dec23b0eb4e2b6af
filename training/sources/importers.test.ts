/**
 * Pretrained-weight importers on fixtures this test writes in the published layouts: a Keras weights .h5
 * (h5wasm; `layer_names`, per-layer `weight_names`, datasets at `<layer>/<layer>/kernel:0`) and a
 * torchvision ResNet50 ONNX export in both common forms (BatchNormalization nodes with module-named
 * initializers; BN folded into Conv biases with anonymous initializers and scoped node names). The fixtures
 * use Keras v1 strides so the imported network must reproduce the fixture's outputs exactly.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { suiteDir } from '../../test/temp-dir.js';
import { softmax } from '../../src/core/classify.js';
import { buildResNet50 } from '../network/resnet.js';
import { exportToOnnx } from '../onnx/export.js';
import { encodeModel, type ModelProto } from '../onnx/proto.js';
import { createNodeSession } from '../ort/node.js';
import { tf, useBackend } from '../tf/backend.js';
import { readKerasH5 } from './keras-h5.js';
import { applyLayerWeights } from './layer-weights.js';
import { loadPretrained } from './pretrained.js';
import { kerasNameOf, modulePathOfNode, readTorchvisionOnnx } from './torchvision-onnx.js';
import { torchvisionExport, writeKerasH5 } from './fixture-files.js';

const SIZE = 32;
const CLASSES = 4;
let source: tf.LayersModel;
let input: tf.Tensor4D;
let expected: Float32Array;

const dir = suiteDir('weights-');

beforeAll(async () => {
  await useBackend('wasm');
  source = buildResNet50({ inputSize: SIZE, classes: CLASSES, head: 'keras', seed: 21 });
  // Non-trivial BN statistics and biases, so a mapping mistake changes the outputs.
  let k = 0;
  for (const layer of source.layers) {
    if (layer.getClassName() === 'BatchNormalization') {
      const [g, b, m, v] = layer.getWeights();
      layer.setWeights([tf.add(g!, tf.randomUniform(g!.shape, 0.5, 1, 'float32', k++)), tf.randomUniform(b!.shape, -0.2, 0.2, 'float32', k++), tf.randomUniform(m!.shape, -0.5, 0.5, 'float32', k++), tf.add(v!, tf.randomUniform(v!.shape, 0, 1, 'float32', k++))]);
    } else if (layer.getClassName() === 'Conv2D') {
      const [w] = layer.getWeights();
      layer.setWeights([w!, tf.randomUniform([w!.shape[3]!], -0.1, 0.1, 'float32', k++)]);
    }
  }
  input = tf.randomNormal([2, SIZE, SIZE, 3], 0, 40, 'float32', 77);
  expected = (source.predict(input) as tf.Tensor).dataSync() as Float32Array;
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

async function onnxProbabilities(m: ModelProto): Promise<Float32Array> {
  const session = await createNodeSession(encodeModel(m));
  const nchw = tf.transpose(input, [0, 3, 1, 2]).dataSync() as Float32Array;
  const logits = (await session.run(nchw, [2, 3, SIZE, SIZE]))[session.outputNames[0]!]!.data;
  await session.release();
  return Float32Array.from([...softmax(logits.subarray(0, CLASSES)), ...softmax(logits.subarray(CLASSES))]);
}

describe('Keras .h5 weights', () => {
  it('loads every layer by name: a fresh network then computes exactly what the source computes', async () => {
    const path = join(dir, 'weights.h5');
    await writeKerasH5(path, source);
    const layers = await readKerasH5(path);
    expect(layers.get('conv1_conv')!.map((w) => w.shape)).toEqual([[7, 7, 3, 64], [64]]);
    expect(layers.get('conv1_bn')).toHaveLength(4);
    const target = buildResNet50({ inputSize: SIZE, classes: CLASSES, head: 'keras', seed: 99 });
    expect(maxAbsDiff((target.predict(input) as tf.Tensor).dataSync(), expected)).toBeGreaterThan(1e-3);
    const report = applyLayerWeights(target, layers);
    expect(report.missing).toEqual([]);
    expect(maxAbsDiff((target.predict(input) as tf.Tensor).dataSync(), expected)).toBeLessThan(1e-6);
  });

  it('a no-top file fills the trunk and leaves the new head; a wrong shape is refused by name', async () => {
    const path = join(dir, 'notop.h5');
    await writeKerasH5(path, source, ['predictions']);
    const target = buildResNet50({ inputSize: SIZE, classes: 7, seed: 5 }); // recipe head: fc1 + 7 classes
    const report = await loadPretrained(target, path, () => {});
    expect(report!.missing.sort()).toEqual(['fc1', 'predictions']);
    expect(Array.from(target.getLayer('conv3_block2_2_conv').getWeights()[0]!.dataSync().slice(0, 8))).toEqual(Array.from(source.getLayer('conv3_block2_2_conv').getWeights()[0]!.dataSync().slice(0, 8)));
    const layers = await readKerasH5(path);
    layers.set('conv1_conv', [{ shape: [3, 3, 3, 64], data: new Float32Array(3 * 3 * 3 * 64) }, layers.get('conv1_conv')![1]!]);
    expect(() => applyLayerWeights(target, layers)).toThrow(/conv1_conv.*7×7×3×64.*3×3×3×64/);
  });
});

describe('torchvision ResNet50 ONNX', () => {
  it('maps module paths and scoped node names to Keras layer names', () => {
    expect(modulePathOfNode('/layer1/layer1.0/downsample/downsample.0/Conv')).toBe('layer1.0.downsample.0');
    expect(modulePathOfNode('/layer3/layer3.5/conv2/Conv')).toBe('layer3.5.conv2');
    expect(modulePathOfNode('/conv1/Conv')).toBe('conv1');
    expect(kerasNameOf('layer1.0.downsample.0')).toBe('conv2_block1_0_conv');
    expect(kerasNameOf('layer4.2.bn3')).toBe('conv5_block3_3_bn');
    expect(kerasNameOf('bn1')).toBe('conv1_bn');
    expect(kerasNameOf('layer5.0.conv1')).toBeNull();
  });

  it('our own export (Keras layer names, BN folded) loads back: train --weights can start from a model trained before', async () => {
    const recipe = buildResNet50({ inputSize: SIZE, classes: CLASSES, seed: 8 }); // fc1 + predictions
    const x = tf.randomNormal([2, SIZE, SIZE, 3], 0, 40, 'float32', 5);
    const want = (recipe.predict(x) as tf.Tensor).dataSync();
    const path = join(dir, 'ours.onnx');
    writeFileSync(path, encodeModel(exportToOnnx(recipe)));
    const target = buildResNet50({ inputSize: SIZE, classes: CLASSES, seed: 9 });
    const report = applyLayerWeights(target, await readTorchvisionOnnx(path));
    expect(report.missing).toEqual([]);
    expect(maxAbsDiff((target.predict(x) as tf.Tensor).dataSync(), want)).toBeLessThan(1e-4);
  });

  for (const folded of [false, true]) {
    it(`${folded ? 'BN folded into Conv biases (anonymous initializers)' : 'Conv + BatchNormalization nodes (named initializers)'}: the imported network reproduces onnxruntime on the file`, async () => {
      const fixture = torchvisionExport(exportToOnnx(source), folded, CLASSES);
      const path = join(dir, `torchvision-${folded ? 'folded' : 'bn'}.onnx`);
      writeFileSync(path, encodeModel(fixture));
      expect(fixture.graph!.node!.some((n) => n.opType === 'BatchNormalization')).toBe(!folded);
      const reference = await onnxProbabilities(fixture);
      expect(maxAbsDiff(reference, expected)).toBeLessThan(1e-4); // the fixture is faithful
      const target = buildResNet50({ inputSize: SIZE, classes: CLASSES, head: 'keras', seed: 123 });
      const report = applyLayerWeights(target, await readTorchvisionOnnx(path));
      expect(report.missing).toEqual([]);
      expect(report.loaded).toHaveLength(target.layers.filter((l) => l.weights.length > 0).length);
      expect(maxAbsDiff((target.predict(input) as tf.Tensor).dataSync(), reference)).toBeLessThan(1e-4);
    });
  }
});
