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

/** The message a call throws, or 'no error'. */
function errorOf(call: () => unknown): string {
  try {
    call();
  } catch (e) {
    return String(e);
  }
  return 'no error';
}

describe('manifest', () => {
  it('round-trips through JSON unchanged', () => {
    expect(parseManifest(JSON.parse(JSON.stringify(parseManifest(valid))))).toEqual(valid);
  });
  it('names every bad field', () => {
    const message = errorOf(() => parseManifest({ ...valid, sha256: 'XYZ', file: '../escape.onnx', labels: ['one'] }));
    expect(message).toMatch(/^Error: invalid model manifest: /);
    for (const field of ['sha256: ', 'file: ', 'labels: ']) expect(message).toContain(field);
    expect(errorOf(() => parseManifest(valid))).toBe('no error');
  });
  it('takes an external-data form with its two files, and checks their names and hashes too', () => {
    const externalData = { graph: { file: 'm-int8.graph.onnx', sha256: 'b'.repeat(64), bytes: 5 }, weights: { file: 'm-int8.weights', sha256: 'c'.repeat(64), bytes: 7 } };
    expect(parseManifest({ ...valid, externalData }).externalData).toEqual(externalData);
    const message = errorOf(() => parseManifest({ ...valid, externalData: { ...externalData, weights: { ...externalData.weights, file: '../w', sha256: 'no' } } }));
    expect(message).toContain('externalData.weights.file: ');
    expect(message).toContain('externalData.weights.sha256: ');
  });
  it('rejects an input shape that disagrees with the preprocessing size', () => {
    expect(() => parseManifest({ ...valid, input: { ...valid.input, shape: [1, 3, 32, 32] } })).toThrow(/disagree/);
  });
});
