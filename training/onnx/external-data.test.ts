import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parseManifest } from '../../src/core/manifest.js';
import { preprocessImage } from '../../src/core/preprocess.js';
import { onnxChecker } from '../../test/node/onnx-checker.js';
import { testDir } from '../../test/temp-dir.js';
import { seededRandom } from '../data/random.js';
import { drawShape, SHAPE_CLASSES } from '../data/shapes.js';
import { createWasmSession } from '../ort/web.js';
import { splitExternalData, splitFileNames } from './external-data.js';
import { decodeModel } from './proto.js';

describe('the external-data form the Worker loads', () => {
  const dir = inject('testModelDir');
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  const model = new Uint8Array(readFileSync(join(dir, manifest.file)));
  const names = splitFileNames(manifest.file);
  const { graph, weights } = splitExternalData(model, names.weights);

  it('moves every large initializer, byte for byte, to an aligned place in one weights file', () => {
    expect(names).toEqual({ graph: manifest.file.replace(/\.onnx$/, '.graph.onnx'), weights: manifest.file.replace(/\.onnx$/, '.weights') });
    const original = new Map(decodeModel(model).graph!.initializer!.map((t) => [t.name!, t]));
    let moved = 0;
    for (const t of decodeModel(graph).graph!.initializer!) {
      if (!t.externalData?.length) {
        expect(t.rawData!.byteLength).toBeLessThan(1024);
        continue;
      }
      const entry = Object.fromEntries(t.externalData.map((e) => [e.key, e.value]));
      expect(entry.location).toBe(names.weights);
      const [offset, length] = [Number(entry.offset), Number(entry.length)];
      expect(offset % 64).toBe(0);
      expect(Buffer.from(weights.subarray(offset, offset + length)).equals(Buffer.from(original.get(t.name!)!.rawData!)), t.name!).toBe(true);
      moved += length;
    }
    expect(moved).toBeGreaterThan(0.95 * model.byteLength);
    expect(graph.byteLength).toBeLessThan(model.byteLength / 50);
  });

  it('gives exactly the outputs of the model file in the Worker\u2019s engine', async () => {
    const random = seededRandom(3);
    const inputs = SHAPE_CLASSES.map((c) => {
      const img = drawShape(c, 64, random);
      return preprocessImage({ width: img.width, height: img.height, channels: 4, data: img.rgba, orientation: 1 }, manifest.preprocess);
    });
    const whole = await createWasmSession(model);
    const split = await createWasmSession(graph, undefined, { path: names.weights, data: weights });
    for (const x of inputs) {
      const a = (await whole.run(x, [...manifest.input.shape]))[manifest.output.name]!.data;
      const b = (await split.run(x, [...manifest.input.shape]))[manifest.output.name]!.data;
      expect(Array.from(b)).toEqual(Array.from(a));
    }
    await whole.release();
    await split.release();
  });

  const checker = onnxChecker();
  it.skipIf(!checker)('passes onnx.checker (full_check) with its weights file beside it [skipped when python3-onnx is absent]', () => {
    const out = testDir('external-');
    writeFileSync(join(out, names.graph), graph);
    writeFileSync(join(out, names.weights), weights);
    expect(checker!(join(out, names.graph))).toBe('ok 13');
  });
});
