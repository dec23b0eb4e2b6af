/**
 * `train --weights`: the network it starts from. A model folder's ONNX (one of ours) brings its manifest's
 * preprocessing and label order, so its head still fits the same classes (bench/experiments/pipeline/ensemble.ts
 * starts two seeds from the default model this way); `none` means the recipe's Keras network and "caffe"
 * preprocessing; a head with another number of outputs gets a new classifier.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caffePreprocess } from '../../src/core/preprocess-spec.js';
import { buildManifest } from '../model-folder/manifest.js';
import { buildResNet50 } from '../network/resnet.js';
import { exportToOnnx } from '../onnx/export.js';
import { encodeModel } from '../onnx/proto.js';
import { startNetwork } from '../sources/start-network.js';
import { useBackend } from '../tf/backend.js';
import { testDir } from '../../test/temp-dir.js';
import { classFolders } from './train.js';

describe('train --weights: the start network', () => {
  it("takes a model folder's network, preprocessing and label order; none is the recipe's network", async () => {
    await useBackend('wasm');
    const dir = testDir('start-');
    const spec = { ...caffePreprocess(32, 32), colorOrder: 'RGB' as const };
    const manifest = buildManifest({ name: 'm', version: '1', file: 'model-int8.onnx', bytes: new Uint8Array(4), sha256: '0'.repeat(64), preprocess: spec, labels: ['zebra', 'ant'], quantization: null, metrics: {} });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(join(dir, 'model-fp32.onnx'), encodeModel(exportToOnnx(buildResNet50({ inputSize: 32, classes: 2, seed: 4 }))));
    const log = () => {};
    const same = await startNetwork(join(dir, 'model-fp32.onnx'), { inputSize: 64, classes: 2, dataLabels: ['ant', 'zebra'], dropout: 0, log });
    expect(same).toMatchObject({ spec: { ...spec, width: 64, height: 64 }, labels: ['zebra', 'ant'], keptHead: true });
    expect(same.description.head.map((l) => l.kind === 'dense' && l.units)).toEqual([1024, 2]);
    const other = await startNetwork(join(dir, 'model-fp32.onnx'), { inputSize: 64, classes: 3, dataLabels: ['ant', 'bee', 'zebra'], dropout: 0, log });
    expect(other).toMatchObject({ keptHead: false });
    expect(other.labels).toBeUndefined();
    expect(other.weights!.has('predictions')).toBe(false);
    expect(other.weights!.has('fc1')).toBe(true);
    const none = await startNetwork('none', { inputSize: 224, classes: 2, dataLabels: ['a', 'b'], dropout: 0, log });
    expect(none).toMatchObject({ spec: caffePreprocess(224, 224), weights: null, keptHead: false });
    expect(none.description.variant).toBe('v1');
  });

  it('orders the class folders as the start model does when they are the same classes, else sorted', async () => {
    const data = testDir('classes-');
    for (const c of ['ant', 'zebra']) {
      mkdirSync(join(data, c));
      writeFileSync(join(data, c, '1.png'), '');
    }
    expect((await classFolders(data, ['zebra', 'ant'])).labels).toEqual(['zebra', 'ant']);
    expect((await classFolders(data, ['zebra', 'ant', 'bee'])).labels).toEqual(['ant', 'zebra']);
    expect((await classFolders(data, undefined)).labels).toEqual(['ant', 'zebra']);
  });
});
