/**
 * `train --weights`: what the starting weights imply. A model folder's ONNX (one of ours) brings its manifest's
 * preprocessing and label order, so its head still fits the same classes (bench/experiments/pipeline/ensemble.ts starts two seeds from
 * the default model this way); Keras weights mean "caffe" preprocessing; any other ONNX, torchvision's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caffePreprocess, torchPreprocess } from '../../src/core/preprocess-spec.js';
import { buildManifest } from '../model-folder/manifest.js';
import { testDir } from '../../test/temp-dir.js';
import { classFolders, startModel } from './train.js';

describe('train --weights: the start model', () => {
  it("takes a model folder's preprocessing and label order; Keras and foreign ONNX weights keep theirs", async () => {
    const dir = testDir('start-');
    const spec = { ...caffePreprocess(32, 32), colorOrder: 'RGB' as const };
    const manifest = buildManifest({ name: 'm', version: '1', file: 'model-int8.onnx', bytes: new Uint8Array(4), sha256: '0'.repeat(64), preprocess: spec, labels: ['zebra', 'ant'], quantization: null, metrics: {} });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect(await startModel(join(dir, 'model-fp32.onnx'), 64)).toEqual({ spec: { ...spec, width: 64, height: 64 }, labels: ['zebra', 'ant'] });
    expect(await startModel(join(testDir('bare-'), 'resnet50.onnx'), 224)).toEqual({ spec: torchPreprocess(224) });
    expect(await startModel('weights.h5', 224)).toEqual({ spec: caffePreprocess(224, 224) });
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
