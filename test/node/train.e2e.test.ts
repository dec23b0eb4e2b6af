/**
 * `npm run pipeline -- train` end to end, as a user runs it: on the 200 cat/dog photos of ../shared/corpora
 * (or, where that folder is absent, on drawn shapes), with an unreadable file mixed in; a short first run,
 * then a longer run with --resume that must continue (same first epoch, no retraining); every output file
 * checked, and the restored weights checked to be the best epoch's by recomputing its validation loss. Both runs
 * hold out a test split (--test-split), scored apart from validation.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDir, suiteDir } from '../temp-dir.js';
import { parseManifest } from '../../src/core/manifest.js';
import { caffePreprocess } from '../../src/core/preprocess-spec.js';
import { readFolderDataset } from '../../training/data/folder.js';
import { loadImageTensors } from '../../training/data/load.js';
import { writeShapesDataset } from '../../training/data/write-shapes.js';
import { predictAll } from '../../training/evaluate/evaluate.js';
import { sha256OfBytes } from '../../training/model-folder/files.js';
import { readCheckpoint } from '../../training/train/checkpoint.js';
import { threeWaySplit } from '../../training/train/split.js';

const PHOTOS = '../shared/corpora/photos/kaggle-cat-and-dog-subset';
const SMOKE = ['--weights', 'none', '--input-size', '32', '--batch', '8', '--device', 'cpu'];
let data: string;
let out: string;

function pipeline(args: string[]) {
  const r = spawnSync('npx', ['tsx', 'training/cli.ts', ...args], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, log: `${r.stdout}\n${r.stderr}` };
}

const root = suiteDir('train-e2e-');

beforeAll(async () => {
  data = join(root, 'data');
  if (existsSync(PHOTOS)) {
    for (const c of ['cats', 'dogs']) cpSync(join(PHOTOS, c), join(data, c), { recursive: true });
  } else {
    console.warn(`${PHOTOS} is absent: training on drawn shapes instead`);
    await writeShapesDataset({ dir: root, seed: 3, splits: [{ name: 'data', perClass: 16 }] });
  }
  const first = (await readFolderDataset(data)).labels[0]!;
  writeFileSync(join(data, first, 'zz-broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 1, 2, 3]));
  out = join(root, 'run');
});

describe('pipeline train', () => {
  it('--help documents every option', () => {
    const { code, log } = pipeline(['train', '--help']);
    expect(code).toBe(0);
    for (const flag of ['--data', '--val-split', '--test-split', '--weights', '--freeze', '--lr', '--epochs', '--fine-tune-lr', '--fine-tune-epochs', '--batch', '--accumulate', '--l2', '--dropout', '--seed', '--patience', '--lr-patience', '--resume', '--device', '--out', '--input-size', '--no-augment', '--calibration']) {
      expect(log).toContain(flag);
    }
    expect(log).toMatch(/imagenet/);
    expect(log).toMatch(/auto.*gpu|gpu.*auto/s);
  });

  it('refuses data it cannot train on, with a message and exit code 2', () => {
    const root = testDir('train-bad-');
    mkdirSync(join(root, 'one', 'only'), { recursive: true });
    const label = readdirSync(data).sort()[0]!;
    const image = readdirSync(join(data, label)).sort().find((f) => /\.(jpe?g|png)$/i.test(f) && !f.startsWith('zz-'))!;
    cpSync(join(data, label, image), join(root, 'one', 'only', 'a.jpg'));
    const single = pipeline(['train', '--data', join(root, 'one'), '--out', join(root, 'o'), ...SMOKE]);
    expect(single.code).toBe(2);
    expect(single.log).toMatch(/at least 2/);
    mkdirSync(join(root, 'one', 'empty'));
    const empty = pipeline(['train', '--data', join(root, 'one'), '--out', join(root, 'o'), ...SMOKE]);
    expect(empty.code).toBe(2);
    expect(empty.log).toMatch(/empty classes.*empty/);
  });

  it('trains both stages, then --resume continues where the first run stopped', async () => {
    const first = pipeline(['train', '--data', data, '--out', out, ...SMOKE, '--test-split', '0.2', '--epochs', '1', '--fine-tune-epochs', '0']);
    expect(first.code, first.log).toBe(0);
    expect(first.log).toMatch(/skipped 1 unreadable file/);
    const firstHistory = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).history as Array<Record<string, number>>;
    expect(firstHistory).toHaveLength(1);

    // The acceptance smoke run (--epochs 2 --fine-tune-epochs 1), resumed from the first run's checkpoint.
    // A deliberately harsh fine-tuning rate makes stage 2 worse, so restoring the best weights is observable.
    const second = pipeline(['train', '--data', data, '--out', out, ...SMOKE, '--test-split', '0.2', '--epochs', '2', '--fine-tune-epochs', '1', '--fine-tune-lr', '0.02', '--resume']);
    expect(second.code, second.log).toBe(0);
    expect(second.log).toMatch(/resume: stage 1, 1 epoch\(s\) done/);
    expect(second.log).not.toMatch(/stage 1 epoch 1\/2/); // epoch 1 was not trained again
    expect(second.log).toMatch(/stage 1 epoch 2\/2/);
    expect(second.log).toMatch(/stage 2 epoch 1\/1/);
    // Every readable file in exactly one split (the broken one is skipped).
    const [, trained, validated, tested] = second.log.match(/(\d+) training, (\d+) validation and (\d+) test images/)!.map(Number);
    expect(trained! + validated! + tested!).toBe((await readFolderDataset(data)).files.length - 1);
    expect(tested).toBeGreaterThan(0);
    expect(second.log).toMatch(/done: test top-1 int8 [\d.]+ .*; validation top-1 int8/);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.history).toHaveLength(3);
    expect(metrics.history[0]).toEqual(firstHistory[0]);
    expect(metrics.history.map((h: { stage: number }) => h.stage)).toEqual([1, 1, 2]);
  });

  it('writes every output: fp32 + int8 ONNX, the manifest the Worker reads, metrics.json, a self-contained report.html', async () => {
    const manifest = parseManifest(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    const int8 = readFileSync(join(out, manifest.file));
    expect(manifest.file).toBe('model-int8.onnx');
    expect(sha256OfBytes(int8)).toBe(manifest.sha256);
    expect(manifest.bytes).toBe(int8.byteLength);
    expect(manifest.preprocess).toEqual(caffePreprocess(32, 32));
    expect(manifest.labels).toEqual((await readFolderDataset(data)).labels);
    expect(manifest.quantization?.calibration.images).toBeGreaterThan(0);
    expect(existsSync(join(out, 'model-fp32.onnx'))).toBe(true);

    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    for (const split of ['validation', 'test']) {
      const m = metrics[split];
      for (const key of ['count', 'accuracy', 'accuracy_fp32', 'agreement_fp32_int8', 'per_class', 'confusion_matrix', 'roc_curves', 'roc_auc']) expect(m, split).toHaveProperty(key);
      for (const label of manifest.labels) expect(Object.keys(m.per_class[label])).toEqual(expect.arrayContaining(['precision', 'recall', 'f1', 'support']));
      expect(m.confusion_matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(m.count);
    }
    expect(manifest.metrics).toMatchObject({ val_count: metrics.validation.count, val_top1_int8: metrics.validation.accuracy, test_count: metrics.test.count, test_top1_int8: metrics.test.accuracy });
    expect(metrics.skipped).toHaveLength(1);

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const part of ['Confusion matrix', 'Precision, recall, F1', 'ROC', 'Loss', 'Worst mistakes']) expect(html).toContain(part);
    // Every mistake shown carries its Grad-CAM (the smoke model makes plenty).
    const mistakes = html.split('<figure>').length - 1;
    expect(mistakes).toBeGreaterThan(0);
    expect(html.split('alt="Grad-CAM of the predicted class"').length - 1).toBe(mistakes);
    expect(html.match(/<svg/g)?.length).toBe(3);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing fetched from the network
    expect(html).toContain('Test split');
    if (metrics.test.accuracy < 1) expect(html).toMatch(/src="data:image\/jpeg;base64,/);
  });

  it('the exported model holds the best epoch’s weights (its validation loss, recomputed in onnxruntime)', async () => {
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    const best = metrics.history.find((h: { stage: number; epoch: number }) => h.stage === metrics.best.stage && h.epoch === metrics.best.epoch);
    expect(best.val_loss).toBe(Math.min(...metrics.history.map((h: { val_loss: number }) => h.val_loss)));
    const last = metrics.history.at(-1);
    expect(last.val_loss).toBeGreaterThan(best.val_loss * 1.01); // the last epoch is not the best: a restore is needed
    const dataset = await readFolderDataset(data);
    const { val } = threeWaySplit(dataset.files, 0.2, 0.2, 1);
    const spec = caffePreprocess(32, 32);
    const set = await loadImageTensors(val, spec);
    const p = await predictAll(join(out, 'model-fp32.onnx'), set.tensors, spec, { engine: 'native' });
    const loss = p.scores.reduce((a, s, i) => a - Math.log(Math.min(1 - 1e-7, Math.max(1e-7, s[set.labels[i]!]!))), 0) / set.tensors.length;
    expect(Math.abs(loss - best.val_loss)).toBeLessThan(1e-3 * Math.max(1, best.val_loss));
    expect(Math.abs(loss - last.val_loss)).toBeGreaterThan(1e-3);
  });

  it('Ctrl-C stops after the current step, keeps the last completed epoch, and --resume picks up from it', async () => {
    const run = join(testDir('train-int-'), 'run');
    const args = ['train', '--data', data, '--out', run, ...SMOKE, '--epochs', '3', '--fine-tune-epochs', '0'];
    // One process (node --import tsx), so the signal reaches the trainer itself, as a terminal's Ctrl-C does.
    const child = spawn(process.execPath, ['--import', 'tsx', 'training/cli.ts', ...args], { env: { ...process.env, FORCE_COLOR: '0' } });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 300_000;
    while (!existsSync(join(run, 'checkpoints', 'last.ckpt')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    expect(await exited).toBe(2);
    expect(log).toMatch(/interrupted/);
    expect(log).not.toMatch(/stage 1 epoch 3\/3/);
    const saved = await readCheckpoint<{ epochsDone: number; stage: number }>(join(run, 'checkpoints', 'last.ckpt'));
    expect(saved!.state).toMatchObject({ stage: 1, epochsDone: 1 });
    expect(existsSync(join(run, 'model-int8.onnx'))).toBe(false); // nothing half-finished is published

    const resumed = pipeline([...args, '--resume']);
    expect(resumed.code, resumed.log).toBe(0);
    expect(resumed.log).toMatch(/resume: stage 1, 1 epoch\(s\) done/);
    expect(resumed.log).toMatch(/stage 1 epoch 2\/3/);
    expect(resumed.log).not.toMatch(/stage 1 epoch 1\/3/);
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
    expect(metrics.history).toHaveLength(3);
    expect(metrics.test).toBeNull(); // no test split asked for: none invented
    expect(resumed.log).toMatch(/no test split: give DIR\/test or --test-split/);
  });
});
