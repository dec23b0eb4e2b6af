/**
 * @module Colour-channel permutation as augmentation. Our renderer keeps every shape ≥ 60 luminance levels from
 * its background; another renderer may not (a third of the librsvg held-out shapes differ from their
 * background mostly in hue). Swapping an image's channels keeps each channel's contrast but moves it between
 * channels of very different luminance weight (G 0.587, B 0.114), so a shape that stood out in luminance now
 * stands out mostly in hue. Hue-contrast data slows early learning, so the recipe turns it on late.
 */
import type { Random } from '../data/random.js';
import type { Recolour } from './batches.js';

/** The five non-identity orders of three channels. */
export const CHANNEL_ORDERS: ReadonlyArray<readonly [number, number, number]> = [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

export interface ChannelPermutation {
  /** The first training step whose images may be permuted. */
  fromStep: number;
  /** Chance that one image gets a (uniformly drawn) non-identity channel order. */
  probability: number;
}

/** Reorders the channels of `pixels` interleaved RGB(-like) pixels starting at `offset`: out[c] = in[order[c]]. */
export function permuteChannelsInto(xs: Float32Array, offset: number, pixels: number, order: readonly [number, number, number]): void {
  const [o0, o1, o2] = order;
  for (let p = 0, at = offset; p < pixels; p++, at += 3) {
    const v0 = xs[at]!;
    const v1 = xs[at + 1]!;
    const v2 = xs[at + 2]!;
    xs[at] = o0 === 0 ? v0 : o0 === 1 ? v1 : v2;
    xs[at + 1] = o1 === 0 ? v0 : o1 === 1 ? v1 : v2;
    xs[at + 2] = o2 === 0 ? v0 : o2 === 1 ? v1 : v2;
  }
}

/** A per-image recolouring for the batch maker: with `probability`, a random non-identity channel order. */
export function channelPermuter(probability: number, random: Random): Recolour {
  return (xs, offset, pixels) => {
    if (random.next() >= probability) return;
    permuteChannelsInto(xs, offset, pixels, CHANNEL_ORDERS[Math.floor(random.next() * CHANNEL_ORDERS.length)]!);
  };
}
