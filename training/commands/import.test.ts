/**
 * `pipeline import` as a user runs it: keras-applications' with-top ResNet50 .h5 served to `--weights imagenet` by
 * a local HTTP server under an md5 pin (and refused when the pin does not match); a real torch.onnx.export of a
 * 5-class torchvision ResNet50 and the recipe's Keras .h5, each served by the Worker with its labels; what it
 * refuses, and that a refused import writes nothing. Random weights: what is checked is the plumbing, not
 * accuracy (bench/import-agreement.ts measures a trained network against PyTorch's own answers).
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../bench/lib/worker-server.js';
import { parseManifest } from '../../src/core/manifest.js';
import { suiteDir, testDir } from '../../test/temp-dir.js';
import { writeShapesDataset } from '../data/write-shapes.js';
import { buildResNet50 } from '../network/resnet.js';
import { createNodeSession } from '../ort/node.js';
import { tf, useBackend } from '../tf/backend.js';
import { ChecksumError, type PinnedFile } from '../sources/download.js';
import { writeKerasH5 } from '../sources/keras-weights-fixture.js';
import { writeKerasH5Model } from '../sources/keras-fixtures.js';
import { pythonWith } from '../../test/reference/python.js';
import { IMAGENET_CLASSES } from '@tensorflow-models/mobilenet/dist/imagenet_classes.js';
import { importCommand, ImportInputError, type ImportOptions } from './import.js';

const SIZE = 32; // weights do not depend on the input size; a small one keeps calibration quick
const dir = suiteDir('import-');
let source: tf.LayersModel;
let h5: string;
let server: Server;
let url: string;
const calibration = join(dir, 'calibration');

beforeAll(async () => {
  await useBackend('wasm');
  source = buildResNet50({ inputSize: SIZE, classes: 1000, head: 'keras', seed: 31 });
  h5 = join(dir, 'resnet50_weights_tf_dim_ordering_tf_kernels.h5');
  await writeKerasH5(h5, source);
  await writeShapesDataset({ dir: calibration, splits: [{ name: 'photos', perClass: 4 }], seed: 5, minSize: 40, maxSize: 80 });
  server = createServer((_req, res) => res.end(readFileSync(h5)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/resnet50_weights_tf_dim_ordering_tf_kernels.h5`;
});

afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

const md5 = (path: string) => createHash('md5').update(readFileSync(path)).digest('hex');
const options = (out: string, extra: Partial<ImportOptions> = {}): ImportOptions => ({
  weights: 'imagenet',
  calibration: join(calibration, 'photos'),
  out,
  inputSize: SIZE,
  calibrationImages: 200,
  method: 'percentile',
  name: 'resnet50-imagenet',
  version: '1.0.0',
  log: () => {},
  ...extra,
});

describe('pipeline import', () => {
  it('imagenet: downloads the with-top .h5 under its pin, loads it by name, and writes a folder the Worker serves with 1,000 hosted-style labels', async () => {
    const out = testDir('import-out-');
    const cacheDir = testDir('import-cache-');
    const pinned: PinnedFile = { url, digest: md5(h5), algorithm: 'md5', fileName: 'resnet50_weights_tf_dim_ordering_tf_kernels.h5' };
    await importCommand(options(out, { pinned, cacheDir }));
    expect(readdirSync(cacheDir)).toEqual([pinned.fileName]);
    const manifest = parseManifest(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    expect(manifest.labels).toHaveLength(1000);
    // The hosted model's wording: the first synonym, upper-cased (its documented example answer).
    expect([manifest.labels[283], manifest.labels[154], manifest.labels[245], manifest.labels[195]]).toEqual(['PERSIAN CAT', 'PEKINESE', 'FRENCH BULLDOG', 'BOSTON BULL']);
    expect(manifest.labels[2]).toBe((IMAGENET_CLASSES as Record<number, string>)[2]!.split(',')[0]!.toUpperCase());
    expect(manifest.preprocess).toMatchObject({ colorOrder: 'BGR', mean: [103.939, 116.779, 123.68], width: SIZE });
    expect(manifest.metrics).toMatchObject({ imported_from: 'keras-weights', top1: expect.stringMatching(/^not measured/) });
    expect(manifest.architecture).toBe('resnet50');
    expect(manifest.metrics.heldout_count).toBeGreaterThanOrEqual(2);
    expect(manifest.metrics.agreement_int8_fp32).toBeGreaterThanOrEqual(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { not_measured: string[]; measured: { agreement_int8_fp32: number } };
    expect(metrics.not_measured[0]).toMatch(/top-1 accuracy/);
    expect(metrics.measured.agreement_int8_fp32).toBe(manifest.metrics.agreement_int8_fp32);

    // The exported fp32 graph computes what the source network computes (onnxruntime-node as the reference).
    const x = tf.randomNormal([1, SIZE, SIZE, 3], 0, 40, 'float32', 3);
    const expected = (source.predict(x) as tf.Tensor).dataSync();
    const session = await createNodeSession(join(out, 'model-fp32.onnx'));
    const got = (await session.run(tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array, [1, 3, SIZE, SIZE]))[session.outputNames[0]!]!.data;
    await session.release();
    expect(Array.from(got).reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0)).toBeLessThan(1e-4);

    // The Worker serves it as Workers AI's resnet-50 would answer.
    const worker = await startWorker(out);
    try {
      const photo = readFileSync(join(calibration, 'photos', 'circle', readdirSync(join(calibration, 'photos', 'circle'))[0]!));
      const res = await fetch(`${worker.base}/accounts/acct/ai/run/@cf/microsoft/resnet-50`, { method: 'POST', body: photo });
      const body = (await res.json()) as { success: boolean; result: Array<{ label: string; score: number }> };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.result).toHaveLength(5);
      for (const { label } of body.result) expect(manifest.labels).toContain(label);
      const models = (await (await fetch(`${worker.base}/v1/models`)).json()) as { models: Array<{ labels: string[] }> };
      expect(models.models[0]!.labels).toHaveLength(1000);
    } finally {
      await worker.stop();
    }
  });

  it('imagenet: a download that does not match the pin is refused and leaves nothing in the cache', async () => {
    const cacheDir = testDir('import-cache-');
    const pinned: PinnedFile = { url, digest: '0'.repeat(32), algorithm: 'md5', fileName: 'resnet50_weights_tf_dim_ordering_tf_kernels.h5' };
    await expect(importCommand(options(testDir('import-out-'), { pinned, cacheDir }))).rejects.toThrow(ChecksumError);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('refuses what it cannot import, saying why, and leaves --out as it was', async () => {
    await expect(importCommand(options(testDir('import-x-'), { weights: h5, calibration: undefined }))).rejects.toThrow(/needs --calibration/);
    const notop = join(dir, 'notop.h5');
    await writeKerasH5(notop, source, ['predictions']);
    await expect(importCommand(options(testDir('import-x-'), { weights: notop }))).rejects.toThrow(ImportInputError);
    await expect(importCommand(options(testDir('import-x-'), { weights: notop }))).rejects.toThrow(/no-top/);
    // A five-class head with no labels named, then a label file of the wrong length: errors, nothing written.
    const five = join(dir, 'five.h5');
    await writeKerasH5Model(five, buildResNet50({ inputSize: SIZE, classes: 5, seed: 2 }), { form: 'functional', keras: 2 });
    const parent = testDir('import-out-');
    const out = join(parent, 'model');
    await expect(importCommand(options(out, { weights: five }))).rejects.toThrow(/5 outputs.*--labels/);
    writeFileSync(join(dir, 'four.txt'), 'a\nb\nc\nd\n');
    await expect(importCommand(options(out, { weights: five, labels: join(dir, 'four.txt') }))).rejects.toThrow(/gives 4 labels; the classifier has 5 outputs/);
    expect(readdirSync(parent)).toEqual([]);
    // An existing folder is replaced only by a complete one.
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'old');
    await expect(importCommand(options(out, { weights: five, labels: join(dir, 'four.txt') }))).rejects.toThrow(ImportInputError);
    expect(readdirSync(parent)).toEqual(['model']);
    expect(readdirSync(out)).toEqual(['keep.txt']);
  });

  it('the CLI exits 2 with the file named for a file it cannot read, writing nothing', () => {
    const parent = testDir('import-cli-');
    writeFileSync(join(parent, 'model.onnx'), 'this is not a model');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'training/cli.ts', 'import', '--weights', join(parent, 'model.onnx'), '--calibration', join(calibration, 'photos'), '--out', join(parent, 'out')], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/model\.onnx: not a Keras \.h5 or \.keras, nor an ONNX file/);
    expect(readdirSync(parent)).toEqual(['model.onnx']);
  });
});

const torch = pythonWith(['torch', 'torchvision', 'PIL']);

describe.skipIf(!torch.python)(`import of a torchvision ResNet50 fine-tuned to 5 classes${torch.python ? '' : ` (skipped: ${torch.reason})`}`, () => {
  it('torch.onnx.export with --labels: its own graph quantized, checked against it, served with its labels; the Keras recipe file with --labels-from', async () => {
    const made = join(dir, 'torch');
    writeFileSync(join(dir, 'torch-job.json'), JSON.stringify({ out: made, classes: 5, size: 64, seed: 4, bn_images: join(calibration, 'photos') }));
    torch.python!.run('torch_resnet.py', [join(dir, 'torch-job.json')]);
    writeFileSync(join(made, 'labels.txt'), 'circle\ncross\nsquare\nstar\ntriangle\n');
    const out = testDir('import-torch-');
    await importCommand(options(out, { weights: join(made, 'model.onnx'), labels: join(made, 'labels.txt'), inputSize: undefined }));
    const manifest = parseManifest(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    expect(manifest.labels).toEqual(['circle', 'cross', 'square', 'star', 'triangle']);
    expect(manifest.output).toEqual({ name: 'logits', kind: 'logits' });
    expect(manifest.preprocess).toMatchObject({ resize: 'shorter-side', resizeShorter: 73, filter: 'bilinear', colorOrder: 'RGB', width: 64, alphaBackground: null });
    expect(manifest.architecture).toBe('resnet50-v1.5');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { imported_from: string; reference_check: { images: number; max_relative_diff: number }; description: { variant: string } };
    expect(metrics).toMatchObject({ imported_from: 'onnx', description: { variant: 'v1.5' } });
    expect(metrics.reference_check.images).toBeGreaterThan(0);
    expect(metrics.reference_check.max_relative_diff).toBeLessThan(1e-4);

    const keras = join(dir, 'recipe.h5');
    await writeKerasH5Model(keras, buildResNet50({ inputSize: SIZE, classes: 5, seed: 6 }), { form: 'sequential', keras: 2 });
    const kerasOut = testDir('import-keras-');
    await importCommand(options(kerasOut, { weights: keras, labelsFrom: join(calibration, 'photos') }));
    const kerasManifest = parseManifest(JSON.parse(readFileSync(join(kerasOut, 'manifest.json'), 'utf8')));
    expect(kerasManifest.labels).toEqual(['circle', 'cross', 'square', 'star', 'triangle']);
    expect(kerasManifest.preprocess).toMatchObject({ resize: 'stretch', filter: 'nearest', colorOrder: 'BGR' });

    // The Worker serves each with its labels.
    for (const folder of [out, kerasOut]) {
      const worker = await startWorker(folder);
      try {
        const photo = readFileSync(join(calibration, 'photos', 'star', readdirSync(join(calibration, 'photos', 'star'))[0]!));
        const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: photo });
        const body = (await res.json()) as { label: string; top: unknown[] };
        expect(res.status, JSON.stringify(body)).toBe(200);
        expect(['circle', 'cross', 'square', 'star', 'triangle']).toContain(body.label);
      } finally {
        await worker.stop();
      }
    }
  });
});
