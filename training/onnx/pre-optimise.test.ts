import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parseManifest } from '../../src/core/manifest.js';
import { preprocessImage } from '../../src/core/preprocess.js';
import { seededRandom } from '../data/random.js';
import { drawShape, SHAPE_CLASSES } from '../data/shapes.js';
import { createWasmSession, WORKER_SESSION_OPTIONS } from '../ort/web.js';
import { splitExternalData, splitFileNames } from './external-data.js';
import { maxOutputDelta, modelOps, nonPortableOps, PRE_OPTIMISED_TOLERANCE, preOptimisedForm } from './pre-optimise.js';

describe('the pre-optimised form', () => {
  const dir = inject('testModelDir');
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  const model = new Uint8Array(readFileSync(join(dir, manifest.file)));
  const location = splitFileNames(manifest.file).weights;
  const dims = [...manifest.input.shape];
  const shapes = (seed: number, count: number) => {
    const random = seededRandom(seed);
    return Array.from({ length: count }, (_, i) => {
      const img = drawShape(SHAPE_CLASSES[i % SHAPE_CLASSES.length]!, 64, random);
      return preprocessImage({ width: img.width, height: img.height, channels: 4, data: img.rgba, orientation: 1 }, manifest.preprocess);
    });
  };

  it('holds the fused int8 ops and gives the original outputs on inputs it was not checked on', async () => {
    const form = await preOptimisedForm(model, location, { tensors: shapes(5, 10), dims });
    if (!form.kept) throw new Error(`not kept: ${form.reason}`);
    expect(form.maxAbsDelta).toBeLessThanOrEqual(PRE_OPTIMISED_TOLERANCE);
    expect(form.by).toMatch(/^onnxruntime-node \d+\.\d+\.\d+$/);
    expect(form.ops).toContain('com.microsoft:QLinearConv');
    expect(modelOps(model)).toContain('ai.onnx:DequantizeLinear');
    expect(form.ops).not.toContain('ai.onnx:DequantizeLinear'); // the QDQ pairs are fused: nothing left for ORT to do
    expect(nonPortableOps(form.ops)).toEqual([]);
    const original = await createWasmSession(model);
    const optimised = await createWasmSession(form.graph, { ...WORKER_SESSION_OPTIONS, preOptimised: true }, { path: location, data: form.weights });
    for (const x of shapes(11, 10)) {
      const a = (await original.run(x, dims))[manifest.output.name]!.data;
      const b = (await optimised.run(x, dims))[manifest.output.name]!.data;
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(PRE_OPTIMISED_TOLERANCE);
    }
    await original.release();
    await optimised.release();
  });

  it('measures a different model as different (the check can fail)', async () => {
    const altered = splitExternalData(model, location);
    for (let i = 0; i < altered.weights.length; i += 7) altered.weights[i] = (altered.weights[i]! + 1) & 0xff;
    expect(await maxOutputDelta(model, altered, location, { tensors: shapes(5, 5), dims }, WORKER_SESSION_OPTIONS)).toBeGreaterThan(PRE_OPTIMISED_TOLERANCE);
  });

  it('refuses host-specific layouts and an unchecked file', async () => {
    expect(nonPortableOps(['ai.onnx:Add', 'com.microsoft:QLinearConv', 'com.microsoft.nchwc:Conv', 'com.microsoft.nchwc:ReorderInput'])).toEqual(['com.microsoft.nchwc:Conv', 'com.microsoft.nchwc:ReorderInput']);
    expect(await preOptimisedForm(model, location, { tensors: [], dims })).toEqual({ kept: false, reason: 'no inputs to check its outputs on' });
  });
});
