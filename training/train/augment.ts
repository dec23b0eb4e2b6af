/**
 * @module Keras ImageDataGenerator-style augmentation on preprocessed tensors: rotation, width/height shift,
 * zoom, horizontal flip, 'nearest' fill. One bilinear resample that also transposes CHW → HWC for tfjs.
 */
import type { Random } from '../data/random.js';

export interface AugmentOptions {
  /** Degrees; the angle is uniform in [−rotation, rotation]. */
  rotation: number;
  /** Fractions of the width/height; shifts are uniform in [−x, x]. */
  widthShift: number;
  heightShift: number;
  /** Zoom factors uniform in [1 − zoom, 1 + zoom], per axis (as Keras). */
  zoom: number;
  horizontalFlip: boolean;
}

/** The reference recipe's settings. */
export const RECIPE_AUGMENTATION: AugmentOptions = { rotation: 20, widthShift: 0.2, heightShift: 0.2, zoom: 0.2, horizontalFlip: true };

/**
 * What `train` does to training images: an affine draw, then (with their probabilities) a channel permutation
 * and a contrast reduction (channel-permutation.ts, contrast.ts). The default model's recipe uses all three;
 * `train`'s own default, the reference recipe's, only the first.
 */
export interface Augmentation {
  affine: AugmentOptions;
  channelPermutation: number | null;
  contrastReduction: { probability: number; lowest: number } | null;
}
export const TRAIN_AUGMENTATION: Augmentation = { affine: RECIPE_AUGMENTATION, channelPermutation: null, contrastReduction: null };

export interface AffineDraw {
  angle: number;
  tx: number;
  ty: number;
  zx: number;
  zy: number;
  flip: boolean;
}

export function drawAffine(options: AugmentOptions, width: number, height: number, random: Random): AffineDraw {
  return {
    angle: (random.uniform(-options.rotation, options.rotation) * Math.PI) / 180,
    tx: random.uniform(-options.widthShift, options.widthShift) * width,
    ty: random.uniform(-options.heightShift, options.heightShift) * height,
    zx: random.uniform(1 - options.zoom, 1 + options.zoom),
    zy: random.uniform(1 - options.zoom, 1 + options.zoom),
    flip: options.horizontalFlip && random.next() < 0.5,
  };
}

/**
 * Resamples a planar [3, H, W] tensor through `draw` into an interleaved [H, W, 3] slot of `out` at `offset`.
 * Output pixel p reads source = centre + R(angle)·Z·(p − centre) − shift (Keras' inverse mapping), clamped
 * to the border ('nearest' fill).
 */
export function augmentInto(src: Float32Array, width: number, height: number, draw: AffineDraw, out: Float32Array, offset: number): void {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(draw.angle);
  const sin = Math.sin(draw.angle);
  const plane = width * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ux = (draw.flip ? width - 1 - x : x) - cx;
      const uy = y - cy;
      let sx = cx + draw.zx * (cos * ux - sin * uy) - draw.tx;
      let sy = cy + draw.zy * (sin * ux + cos * uy) - draw.ty;
      sx = Math.min(Math.max(sx, 0), width - 1);
      sy = Math.min(Math.max(sy, 0), height - 1);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, width - 1);
      const y1 = Math.min(y0 + 1, height - 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = offset + (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const base = c * plane;
        const top = src[base + y0 * width + x0] * (1 - fx) + src[base + y0 * width + x1] * fx;
        const bottom = src[base + y1 * width + x0] * (1 - fx) + src[base + y1 * width + x1] * fx;
        out[o + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
}

/** CHW → HWC copy into `out` at `offset` (no augmentation: validation and evaluation). */
export function transposeInto(src: Float32Array, width: number, height: number, out: Float32Array, offset: number): void {
  const plane = width * height;
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[offset + p * 3 + c] = src[c * plane + p];
}
