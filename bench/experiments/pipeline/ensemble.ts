/**
 * An ensemble of two `train --seed` runs beside its members, on a drawn-shapes set whose test split no run saw:
 * writes the set (seeded, not the default model's seeds), trains seeds 1 and 2 with the same recipe, then
 * `evaluate`s both members and their soft and majority votes on the test split. The recipe starts from the
 * default model (`--weights model/resnet50-shapes-fp32.onnx`: there are no pretrained weights offline, and a
 * ResNet50 from scratch on 300 images learns nothing in minutes) and trains its head (fc1, predictions) on the
 * frozen trunk, so the members differ by their seed: split, head-training order and augmentation.
 * Usage: npm run model, then npx tsx bench/experiments/pipeline/ensemble.ts [--json bench/results/ensemble.json]   (~5 min, 2 cores)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../../../src/core/manifest.js';
import { trainCommand } from '../../../training/commands/train.js';
import { writeShapesDataset } from '../../../training/data/write-shapes.js';
import { evaluateEnsemble } from '../../../training/evaluate/evaluate.js';
import { writeJsonAtomic } from '../../../training/model-folder/files.js';
import { DEFAULT_CALLBACKS } from '../../../training/train/callbacks.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const root = mkdtempSync(join(tmpdir(), 'ensemble-'));
const log = (line: string) => process.stderr.write(`${line}\n`);
try {
  const data = join(root, 'shapes');
  await writeShapesDataset({ dir: data, seed: 404, splits: [{ name: 'train', perClass: 60 }, { name: 'val', perClass: 20 }, { name: 'test', perClass: 40 }] });
  const recipe = { weights: 'model/resnet50-shapes-fp32.onnx', freeze: 175, epochs: 6, lr: 3e-4, fineTuneEpochs: 0, fineTuneLr: 1e-5 };
  const runs: string[] = [];
  for (const seed of [1, 2]) {
    const out = join(root, `seed-${seed}`);
    await trainCommand({
      data, out, valSplit: 0.2, testSplit: 0, inputSize: 32, ...recipe, batch: 16, accumulate: 1, l2: 0, dropout: 0, seed,
      callbacks: { ...DEFAULT_CALLBACKS }, augment: true, featureViews: 3, resume: false, device: 'cpu', calibration: 'percentile', calibrationImages: 64,
      name: `shapes-seed-${seed}`, version: '1.0.0', log,
    });
    runs.push(out);
  }
  const members = runs.map((dir) => {
    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    return { model: join(dir, manifest.file), spec: manifest.preprocess, labels: manifest.labels, outputKind: manifest.output.kind };
  });
  const report = await evaluateEnsemble(members, join(data, 'test'));
  const result = {
    command: 'npx tsx bench/experiments/pipeline/ensemble.ts --json bench/results/ensemble.json',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    data: 'drawn shapes, seed 404: 60 train / 20 val / 40 test per class (5 classes); the test split scored once',
    recipe: { input_size: 32, ...recipe, batch: 16, seeds: [1, 2] },
    test_count: report.count,
    members: report.members.map((m, i) => ({ seed: i + 1, top1: m.top1, macro_f1: m.macro_f1 })),
    soft_vote: { top1: report.soft_vote.top1, macro_f1: report.soft_vote.macro_f1 },
    majority_vote: report.majority_vote,
  };
  console.log(JSON.stringify(result, null, 2));
  const json = arg('--json');
  if (json) await writeJsonAtomic(json, result);
} finally {
  rmSync(root, { recursive: true, force: true });
}
