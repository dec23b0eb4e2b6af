import { describe, expect, it } from 'vitest';
import { MANIFEST_SCHEMA_VERSION, parseManifest } from './manifest.js';
import { caffePreprocess } from './preprocess-spec.js';

const valid = {
  schemaVersion: MANIFEST_SCHEMA_VERSION,
  name: 'm',
  version: '1',
  architecture: 'resnet50',
  file: 'm-int8.onnx',
  sha256: 'a'.repeat(64),
  bytes: 10,
  createdAt: '2026-11-28T00:00:00Z',
  input: { name: 'input', shape: [1, 3, 64, 64], layout: 'NCHW', dtype: 'float32' },
  output: { name: 'probabilities', kind: 'probabilities' },
  preprocess: caffePreprocess(64, 64),
  labels: ['a', 'b'],
  quantization: { format: 'QDQ', weights: 'int8 symmetric per-channel', activations: 'uint8 asymmetric per-tensor', bias: 'int32', calibration: { method: 'percentile', images: 5 } },
  metrics: { top1: 0.9 },
};

describe('manifest', () => {
  it('round-trips through JSON unchanged', () => {
    expect(parseManifest(JSON.parse(JSON.stringify(parseManifest(valid))))).toEqual(valid);
  });
  it('names every bad field', () => {
    expect(() => parseManifest({ ...valid, sha256: 'XYZ', file: '../escape.onnx', labels: ['one'] })).toThrow(/sha256.*file.*labels|sha256|file/);
    try {
      parseManifest({ ...valid, sha256: 'XYZ', file: '../escape.onnx' });
    } catch (e) {
      expect(String(e)).toContain('sha256');
      expect(String(e)).toContain('file');
    }
  });
  it('rejects an input shape that disagrees with the preprocessing size', () => {
    expect(() => parseManifest({ ...valid, input: { ...valid.input, shape: [1, 3, 32, 32] } })).toThrow(/disagree/);
  });
});
