/**
 * @module Random contrast reduction as augmentation (Keras' RandomContrast, lower half only). Our renderer
 * keeps every shape ≥ 60 luminance levels from its background; most shapes another renderer loses are
 * fainter than that (16 of the 22 librsvg shapes 1.6.0 gets wrong are < 40 levels apart). Pulling each
 * channel of an image towards its mean by a random factor shows the model faint shapes drawn by our own
 * renderer. Like the channel permutation, it makes the data harder, so the recipe turns it on late.
 */
import type { Random } from '../data/random.js';
import type { Recolour } from './batches.js';

export interface ContrastReduction {
  /** The first training step whose images may be faded. */
  fromStep: number;
  /** Chance that one image is faded. */
  probability: number;
  /** The contrast factor is uniform in [lowest, 1]. */
  lowest: number;
}

/** x ← mean + factor · (x − mean), per channel, for `pixels` interleaved 3-channel pixels from `offset`. */
export function reduceContrastInto(xs: Float32Array, offset: number, pixels: number, factor: number): void {
  const mean = [0, 0, 0];
  for (let p = 0, at = offset; p < pixels; p++, at += 3) for (let c = 0; c < 3; c++) mean[c]! += xs[at + c]!;
  for (let c = 0; c < 3; c++) mean[c]! /= pixels;
  for (let p = 0, at = offset; p < pixels; p++, at += 3) for (let c = 0; c < 3; c++) xs[at + c] = mean[c]! + factor * (xs[at + c]! - mean[c]!);
}

/** A per-image recolouring for the batch maker: with `probability`, contrast × uniform(lowest, 1). */
export function contrastReducer(probability: number, lowest: number, random: Random): Recolour {
  return (xs, offset, pixels) => {
    if (random.next() >= probability) return;
    reduceContrastInto(xs, offset, pixels, random.uniform(lowest, 1));
  };
}
