/** @module Mini-batches for tfjs (NHWC) from preprocessed planar tensors, with optional augmentation. */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../data/random.js';
import { augmentInto, drawAffine, transposeInto, type AugmentOptions } from './augment.js';

export interface TensorSet {
  /** [3, H, W] planar tensors, as the shared preprocessing makes them. */
  tensors: Float32Array[];
  labels: number[];
  width: number;
  height: number;
  classes: number;
}

/** Rewrites one image's `pixels` interleaved 3-channel pixels from `offset` in place (colour augmentation). */
export type Recolour = (xs: Float32Array, offset: number, pixels: number) => void;

/**
 * An NHWC batch of the given indices; `augment` resamples each image through a random affine draw, and
 * `recolour`, when given, then rewrites each image's interleaved channels in place.
 */
export function makeBatch(set: TensorSet, indices: number[], augment: AugmentOptions | null, random: Random, recolour?: Recolour): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const { width, height } = set;
  const stride = width * height * 3;
  const xs = new Float32Array(indices.length * stride);
  const ys = new Float32Array(indices.length * set.classes);
  indices.forEach((index, b) => {
    const src = set.tensors[index]!;
    if (augment) augmentInto(src, width, height, drawAffine(augment, width, height, random), xs, b * stride);
    else transposeInto(src, width, height, xs, b * stride);
    recolour?.(xs, b * stride, width * height);
    ys[b * set.classes + set.labels[index]!] = 1;
  });
  return { x: tf.tensor4d(xs, [indices.length, height, width, 3]), y: tf.tensor2d(ys, [indices.length, set.classes]) };
}
