/**
 * @module Stage 1's speed-up: the frozen prefix runs once per image (and per augmented view) in
 * onnxruntime-node, natively on every core or on the GPU through its WebGPU provider (`--device gpu`), and its
 * outputs are cached on disk; the head then trains on those features.
 * One fixed-size NHWC record per image per view, so a batch is a handful of positioned reads.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Random } from '../data/random.js';
import { exportToOnnx } from '../onnx/export.js';
import { encodeModel } from '../onnx/proto.js';
import { createNodeSession } from '../ort/node.js';
import { augmentInto, drawAffine, transposeInto, type AugmentOptions } from './augment.js';

export interface FeatureShape {
  /** Frontier tensor name (the producing layer) and its NHWC shape without the batch. */
  name: string;
  shape: [number, number, number];
}

export interface FeatureCache {
  file: string;
  count: number;
  shapes: FeatureShape[];
  /** Floats per record (all frontier tensors, concatenated). */
  recordFloats: number;
}

export const featureShapes = (frontier: tf.SymbolicTensor[]): FeatureShape[] =>
  frontier.map((t) => ({ name: t.sourceLayer.name, shape: t.shape.slice(1) as [number, number, number] }));

/** NCHW (one image) → NHWC into `out` at `offset`. */
function nchwToNhwc(src: Float32Array, [h, w, c]: [number, number, number], out: Float32Array, offset: number): void {
  const plane = h * w;
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) out[offset + p * c + ch] = src[ch * plane + p];
}

export interface ComputeFeaturesOptions {
  prefix: tf.LayersModel;
  frontier: tf.SymbolicTensor[];
  /** Planar [3, H, W] tensors from the shared preprocessing. */
  tensors: Float32Array[];
  width: number;
  height: number;
  /** Augmentation for this view (null: the image as is). */
  augment: AugmentOptions | null;
  random: Random;
  file: string;
  /** onnxruntime-node's execution provider: 'webgpu' when training on a GPU. */
  provider?: 'cpu' | 'webgpu';
  onProgress?: (done: number) => void;
}

/** Runs the frozen prefix over every image once and writes the cache file atomically (reused when present). */
export async function computeFeatures(o: ComputeFeaturesOptions): Promise<FeatureCache> {
  const shapes = featureShapes(o.frontier);
  const recordFloats = shapes.reduce((a, s) => a + s.shape[0] * s.shape[1] * s.shape[2], 0);
  const cache: FeatureCache = { file: o.file, count: o.tensors.length, shapes, recordFloats };
  const existing = await stat(o.file).catch(() => null);
  if (existing && existing.size === o.tensors.length * recordFloats * 4) return cache;
  await mkdir(dirname(o.file), { recursive: true });
  const onnx = exportToOnnx(o.prefix);
  const outputNames = onnx.graph!.output!.map((v) => v.name!);
  // One image at a time, so the cores go to each convolution.
  const session = await createNodeSession(encodeModel(onnx), { threads: Math.min(16, availableParallelism()), provider: o.provider });
  const tmp = `${o.file}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w');
  try {
    const image = new Float32Array(3 * o.width * o.height);
    const hwc = new Float32Array(image.length);
    const record = new Float32Array(recordFloats);
    for (const [i, src] of o.tensors.entries()) {
      // Augment in HWC (the training path's resampler), then back to planar for the NCHW model.
      if (o.augment) augmentInto(src, o.width, o.height, drawAffine(o.augment, o.width, o.height, o.random), hwc, 0);
      else transposeInto(src, o.width, o.height, hwc, 0);
      const plane = o.width * o.height;
      for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) image[c * plane + p] = hwc[p * 3 + c]!;
      const out = await session.run(image, [1, 3, o.height, o.width], outputNames);
      let offset = 0;
      shapes.forEach((s, k) => {
        nchwToNhwc(out[outputNames[k]!]!.data, s.shape, record, offset);
        offset += s.shape[0] * s.shape[1] * s.shape[2];
      });
      await handle.write(new Uint8Array(record.buffer), 0, record.byteLength, i * record.byteLength);
      o.onProgress?.(i + 1);
    }
  } finally {
    await handle.close();
    await session.release();
  }
  await rename(tmp, o.file);
  return cache;
}

/** Reads the records of `indices` and returns one [batch, …shape] Float32Array per frontier tensor. */
export function readFeatureBatch(cache: FeatureCache, indices: number[]): Float32Array[] {
  const sizes = cache.shapes.map((s) => s.shape[0] * s.shape[1] * s.shape[2]);
  const parts = sizes.map((n) => new Float32Array(indices.length * n));
  const record = new Float32Array(cache.recordFloats);
  const bytes = new Uint8Array(record.buffer);
  const fd = openSync(cache.file, 'r');
  try {
    indices.forEach((index, b) => {
      readSync(fd, bytes, 0, bytes.byteLength, index * bytes.byteLength);
      let offset = 0;
      sizes.forEach((n, k) => {
        parts[k]!.set(record.subarray(offset, offset + n), b * n);
        offset += n;
      });
    });
  } finally {
    closeSync(fd);
  }
  return parts;
}
