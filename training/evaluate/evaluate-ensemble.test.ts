/**
 * `evaluate` with several models: the test model's int8 file and its fp32 reference as two members, on drawn
 * shapes. Each member's figure equals its own single evaluation, and the soft vote equals the mean of the
 * members' probabilities computed here by hand.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parseManifest } from '../../src/core/manifest.js';
import { testDir } from '../../test/temp-dir.js';
import { readFolderDataset } from '../data/folder.js';
import { loadImageTensors } from '../data/load.js';
import { writeShapesDataset } from '../data/write-shapes.js';
import { evaluateEnsemble, evaluateModel, predictAll } from './evaluate.js';

describe('evaluate --model A --model B', () => {
  it('reports each member and the soft and majority votes on the same images', async () => {
    const dir = inject('testModelDir');
    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const data = join(testDir('ensemble-'), 'set');
    await writeShapesDataset({ dir: data, splits: [{ name: 'test', perClass: 4 }], seed: 77, minSize: 40, maxSize: 90 });
    const files = [join(dir, manifest.file), join(dir, manifest.reference!.file)];
    const members = files.map((model) => ({ model, spec: manifest.preprocess, labels: manifest.labels, outputKind: manifest.output.kind }));
    const report = await evaluateEnsemble(members, join(data, 'test'));
    expect(report.count).toBe(4 * manifest.labels.length);
    expect(report.members.map((m) => m.model)).toEqual(files);
    for (const [i, model] of files.entries()) {
      const single = await evaluateModel({ model, data: join(data, 'test'), spec: manifest.preprocess, labels: manifest.labels, outputKind: manifest.output.kind });
      expect(report.members[i]!.top1).toBe(single.top1);
    }
    // The soft vote by hand: mean probabilities, argmax, against the folders' labels.
    const dataset = await readFolderDataset(join(data, 'test'), manifest.labels);
    const set = await loadImageTensors(dataset.files, manifest.preprocess);
    const scores = await Promise.all(files.map((f) => predictAll(f, set.tensors, manifest.preprocess, { outputKind: manifest.output.kind })));
    const correct = set.labels.filter((truth, i) => {
      const mean = scores[0]!.scores[i]!.map((p, c) => (p + scores[1]!.scores[i]![c]!) / 2);
      return mean.indexOf(Math.max(...mean)) === truth;
    }).length;
    expect(report.soft_vote.top1).toBeCloseTo(correct / set.labels.length, 12);
    expect(report.majority_vote.top1).toBeGreaterThanOrEqual(0);
  });

  it('refuses members whose labels differ', async () => {
    const dir = inject('testModelDir');
    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const member = { model: join(dir, manifest.file), spec: manifest.preprocess, labels: manifest.labels };
    await expect(evaluateEnsemble([member, { ...member, labels: [...manifest.labels].reverse() }], dir)).rejects.toThrow(/same labels/);
  });
});
