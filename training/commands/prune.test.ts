/**
 * `pipeline prune` as a user runs it, on what `import` made of a real torch.onnx.export (torchvision ResNet50, 5
 * classes, BN folded by the exporter): pruned by Taylor without fine-tuning, written with its widths, GMAC and
 * origin, scored before and after, served by the Worker; keep 1 changes nothing; what it refuses (exit 2, --out
 * untouched). Random weights: the plumbing, not accuracy (bench/prune-accuracy.ts measures that).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../bench/lib/worker-server.js';
import { parseManifest } from '../../src/core/manifest.js';
import { pythonWith } from '../../test/reference/python.js';
import { suiteDir, testDir } from '../../test/temp-dir.js';
import { writeShapesDataset } from '../data/write-shapes.js';
import { createNodeSession } from '../ort/node.js';
import { useBackend } from '../tf/backend.js';
import { DEFAULT_CALLBACKS } from '../train/callbacks.js';
import { importCommand } from './import.js';
import { pruneCommand, PruneInputError, type PruneOptions } from './prune.js';

const dir = suiteDir('prune-');
const data = join(dir, 'data');
const torch = pythonWith(['torch', 'torchvision', 'PIL']);

const options = (model: string, out: string, extra: Partial<PruneOptions> = {}): PruneOptions => ({
  model, out, data, keep: 0.5, by: 'taylor', epochs: 0, lr: 1e-4, batch: 8, accumulate: 1, l2: 0, dropout: 0, valSplit: 0.25, testSplit: 0.25, inputSize: 64, seed: 1,
  callbacks: DEFAULT_CALLBACKS, augment: false, device: 'cpu', calibration: 'percentile', calibrationImages: 16, taylorImages: 16, name: 'pruned', version: '1.0.0', log: () => {}, ...extra,
});

beforeAll(async () => {
  await useBackend('wasm');
  await writeShapesDataset({ dir: data, splits: [{ name: '.', perClass: 6 }], seed: 8, minSize: 48, maxSize: 96 });
});

describe.skipIf(!torch.python)(`prune an imported torchvision ResNet50${torch.python ? '' : ` (skipped: ${torch.reason})`}`, () => {
  let imported: string;
  beforeAll(async () => {
    const made = join(dir, 'torch');
    writeFileSync(join(dir, 'torch-job.json'), JSON.stringify({ out: made, classes: 5, size: 64, seed: 4, bn_images: data }));
    torch.python!.run('torch_resnet.py', [join(dir, 'torch-job.json')]);
    imported = join(dir, 'imported');
    await importCommand({ weights: join(made, 'model.onnx'), calibration: data, labelsFrom: data, out: imported, calibrationImages: 16, method: 'percentile', name: 'torch-shapes', version: '2.0.0', log: () => {} });
  }, 300_000);

  it('keep 0.5 by Taylor: widths in multiples of 8, GMAC and origin in the manifest, scored before and after, int8↔fp32 agreement reported, served', async () => {
    const out = testDir('prune-half-');
    const result = await pruneCommand(options(imported, out));
    const manifest = parseManifest(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    expect(manifest.architecture).toBe('resnet50-v1.5-pruned');
    expect(manifest.labels).toEqual(['circle', 'cross', 'square', 'star', 'triangle']);
    expect(manifest.network!.prunedFrom).toEqual({ model: 'torch-shapes@2.0.0', gmac: expect.any(Number), keep: 0.5, by: 'taylor' });
    expect(manifest.network!.widths.flat(2).every((w) => w % 8 === 0)).toBe(true);
    expect(manifest.network!.widths.map((s) => s[0])).toEqual([[32, 32], [64, 64], [128, 128], [256, 256]]);
    expect(manifest.network!.gmac).toBeLessThan(manifest.network!.prunedFrom!.gmac * 0.5);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { test: { agreement_fp32_int8: number; count: number }; pruning: { before: { top1_int8: number; top1_fp32: number; count: number }; after: { top1_int8: number; count: number } } };
    expect(metrics.test.count).toBeGreaterThan(0);
    expect(metrics.test.agreement_fp32_int8).toBeGreaterThanOrEqual(0);
    expect(metrics.pruning.before).toMatchObject({ split: 'test', count: metrics.test.count, top1_int8: expect.any(Number), top1_fp32: expect.any(Number) });
    expect(metrics.pruning.after.count).toBe(metrics.test.count);
    expect(result.pruning.gmac).toBe(manifest.network!.gmac);
    expect(readdirSync(out)).not.toContain('checkpoints');
    const worker = await startWorker(out);
    try {
      const star = join(data, 'star', readdirSync(join(data, 'star'))[0]!);
      const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: readFileSync(star) });
      const body = (await res.json()) as { label: string };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(manifest.labels).toContain(body.label);
    } finally {
      await worker.stop();
    }
  });

  it('--keep-stream cuts each stage\'s residual stream too: widths and streams in the manifest, served, and read back by a second prune', async () => {
    const out = testDir('prune-stream-');
    await pruneCommand(options(imported, out, { keepStream: 0.5 }));
    const manifest = parseManifest(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    expect(manifest.network!.prunedFrom).toEqual({ model: 'torch-shapes@2.0.0', gmac: expect.any(Number), keep: 0.5, keepStream: 0.5, by: 'taylor' });
    expect(manifest.network!.streams).toEqual([128, 256, 512, 1024]);
    expect(manifest.network!.widths.map((s) => s[0])).toEqual([[32, 32], [64, 64], [128, 128], [256, 256]]);
    expect(manifest.network!.gmac).toBeLessThan(manifest.network!.prunedFrom!.gmac * 0.3);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { test: { agreement_fp32_int8: number }; pruning: { streams: string } };
    expect(metrics.pruning.streams).toBe('128 256 512 1024');
    expect(metrics.test.agreement_fp32_int8).toBeGreaterThanOrEqual(0);
    const worker = await startWorker(out);
    try {
      const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: readFileSync(join(data, 'circle', readdirSync(join(data, 'circle'))[0]!)) });
      expect(res.status, await res.clone().text()).toBe(200);
    } finally {
      await worker.stop();
    }
    // Its fp32 file is a ResNet with narrower streams that import recognises: pruned again, the streams stay.
    const again = testDir('prune-stream-again-');
    await pruneCommand(options(out, again, { keep: 1, by: 'l1' }));
    expect(parseManifest(JSON.parse(readFileSync(join(again, 'manifest.json'), 'utf8'))).network!.streams).toEqual([128, 256, 512, 1024]);
  });

  it('--distill fine-tunes with the unpruned network as teacher and records it; a teacher of other classes is refused', async () => {
    const out = testDir('prune-distill-');
    const lines: string[] = [];
    await pruneCommand(options(imported, out, { epochs: 1, distill: { weight: 0.5, temperature: 4 }, log: (l) => lines.push(l) }));
    expect(lines.join('\n')).toMatch(/learns the unpruned network's answers too \(α 0\.5, T 4\)/);
    expect(lines.join('\n')).toMatch(/stage 2 epoch 1\/1: loss \d/);
    // The cut network's BN statistics are measured again before the first step (and after each epoch).
    expect(lines.join('\n')).toMatch(/BatchNorm statistics re-measured on \d+ training images/);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { pruning: { distillation: unknown; fine_tune_epochs: number } };
    expect(metrics.pruning).toMatchObject({ fine_tune_epochs: 1, distillation: { weight: 0.5, temperature: 4 } });
    const three = join(dir, 'three-classes-distill');
    for (const label of ['circle', 'square', 'star']) {
      mkdirSync(join(three, label), { recursive: true });
      for (const f of readdirSync(join(data, label))) writeFileSync(join(three, label, f), readFileSync(join(data, label, f)));
    }
    await expect(pruneCommand(options(imported, testDir('prune-distill-three-'), { data: three, by: 'l1', epochs: 1, distill: { weight: 0.5, temperature: 4 } }))).rejects.toThrow(/--distill: the unpruned model's classifier answers other classes/);
  });

  it('keep 1 leaves the network as it was: the same outputs as the imported fp32 model', async () => {
    const out = testDir('prune-one-');
    await pruneCommand(options(imported, out, { keep: 1, by: 'l1' }));
    const images = readdirSync(join(data, 'circle')).slice(0, 3).map((f) => join(data, 'circle', f));
    const { loadImageTensors } = await import('../data/load.js');
    const spec = parseManifest(JSON.parse(readFileSync(join(imported, 'manifest.json'), 'utf8'))).preprocess;
    const set = await loadImageTensors(images.map((path) => ({ path, label: 0 })), spec);
    const before = await createNodeSession(readFileSync(join(imported, 'model-fp32.onnx')));
    const after = await createNodeSession(readFileSync(join(out, 'model-fp32.onnx')));
    const softmax = (v: Float32Array) => {
      const m = Math.max(...v);
      const e = v.map((x) => Math.exp(x - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / s);
    };
    for (const t of set.tensors) {
      const a = softmax((await before.run(t, [1, 3, 64, 64]))[before.outputNames[0]!]!.data as Float32Array);
      const b = (await after.run(t, [1, 3, 64, 64]))[after.outputNames[0]!]!.data as Float32Array;
      expect(Math.max(...Array.from(b, (v, i) => Math.abs(v - a[i]!)))).toBeLessThan(2e-3);
    }
    await before.release();
    await after.release();
  });

  it('refuses bn-gamma on a folder whose BN the export folded, and --epochs 0 with another class count; --out stays as it was', async () => {
    const out = testDir('prune-refused-');
    writeFileSync(join(out, 'keep.txt'), 'mine');
    await expect(pruneCommand(options(imported, out, { by: 'bn-gamma' }))).rejects.toThrow(/bn-gamma: conv2_block1_1_bn was folded/);
    const three = join(dir, 'three');
    for (const c of ['circle', 'square', 'star']) {
      mkdirSync(join(three, c), { recursive: true });
      for (const f of readdirSync(join(data, c))) writeFileSync(join(three, c, f), readFileSync(join(data, c, f)));
    }
    await expect(pruneCommand(options(imported, out, { data: three }))).rejects.toThrow(/--epochs 0 keeps the model's classifier/);
    expect(readdirSync(out)).toEqual(['keep.txt']);
    expect(readdirSync(dir).filter((f) => f.includes('.prune-'))).toEqual([]);
  });
});

describe('pipeline prune refuses bad input with exit 2', () => {
  it('a keep outside (0, 1], a model that is not there, naming the field', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'training/cli.ts', 'prune', '--data', data, '--out', join(dir, 'never'), ...args], { encoding: 'utf8' });
    const keep = run('--model', dir, '--keep', '1.5');
    expect(keep.status).toBe(2);
    expect(keep.stderr).toMatch(/--keep.*1\.5/);
    const stream = run('--model', dir, '--keep', '0.5', '--keep-stream', '0');
    expect(stream.status).toBe(2);
    expect(stream.stderr).toMatch(/--keep-stream.*expected a fraction in \(0, 1\], got 0/);
    const missing = run('--model', join(dir, 'nothing-here'), '--keep', '0.5');
    expect(missing.status, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/--model .*nothing-here: no such file or folder/);
    expect(() => readdirSync(join(dir, 'never'))).toThrow();
    expect(new PruneInputError('x')).toBeInstanceOf(Error);
  });
});
