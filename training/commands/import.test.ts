/**
 * `pipeline import` on fixtures this test writes in the published layouts: Keras' with-top ResNet50 .h5 (the
 * 1000-class Dense `predictions`), served to `--weights imagenet` by a local HTTP server under an md5 pin (and
 * refused when the pin does not match), and a torchvision ResNet50 .onnx with `fc`. Random weights: what is
 * checked is the plumbing (weights by name, parity with the source network, the labels, the int8 check, a
 * folder the Worker serves), not ImageNet accuracy, which needs the real files.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../bench/lib/worker-server.js';
import { parseManifest } from '../../src/core/manifest.js';
import { suiteDir, testDir } from '../../test/temp-dir.js';
import { writeShapesDataset } from '../data/write-shapes.js';
import { buildResNet50 } from '../network/resnet.js';
import { exportToOnnx } from '../onnx/export.js';
import { encodeModel } from '../onnx/proto.js';
import { createNodeSession } from '../ort/node.js';
import { tf, useBackend } from '../tf/backend.js';
import { ChecksumError, type PinnedFile } from '../sources/download.js';
import { torchvisionExport, writeKerasH5 } from '../sources/fixture-files.js';
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
    expect(manifest.metrics).toMatchObject({ imported_from: 'keras-h5', top1_imagenet: expect.stringMatching(/^not measured/) });
    expect(manifest.architecture).toBe('resnet50');
    expect(manifest.metrics.heldout_count).toBeGreaterThanOrEqual(2);
    expect(manifest.metrics.agreement_int8_fp32).toBeGreaterThanOrEqual(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { not_measured: string[]; measured: { agreement_int8_fp32: number } };
    expect(metrics.not_measured[0]).toMatch(/ImageNet/);
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

  it('a torchvision ResNet50 .onnx with fc: quantized as it is, logits out, torchvision preprocessing', async () => {
    const onnx = join(dir, 'resnet50-torchvision.onnx');
    writeFileSync(onnx, encodeModel(torchvisionExport(exportToOnnx(source), true, 1000)));
    const out = testDir('import-torch-');
    await importCommand(options(out, { weights: onnx }));
    const manifest = parseManifest(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    expect(manifest.labels).toHaveLength(1000);
    expect(manifest.output).toEqual({ name: 'logits', kind: 'logits' });
    expect(manifest.preprocess).toMatchObject({ colorOrder: 'RGB', resize: 'center-crop', width: SIZE });
    expect(manifest.metrics.imported_from).toBe('torchvision-onnx');
    expect(manifest.architecture).toBe('resnet50'); // counted from its convolutions
  });

  it('refuses what cannot become an ImageNet classifier, saying why', async () => {
    await expect(importCommand(options(testDir('import-x-'), { weights: h5, calibration: undefined }))).rejects.toThrow(/needs --calibration/);
    const notop = join(dir, 'notop.h5');
    await writeKerasH5(notop, source, ['predictions']);
    await expect(importCommand(options(testDir('import-x-'), { weights: notop }))).rejects.toThrow(ImportInputError);
    await expect(importCommand(options(testDir('import-x-'), { weights: notop }))).rejects.toThrow(/no-top/);
    const five = buildResNet50({ inputSize: SIZE, classes: 5, head: 'keras', seed: 2 });
    const small = join(dir, 'five.h5');
    await writeKerasH5(small, five);
    await expect(importCommand(options(testDir('import-x-'), { weights: small }))).rejects.toThrow(/2048×1000/);
  });
});
