/**
 * @module Structured pruning of the bottlenecks' inner channels: each block keeps `keep` of its `_1_conv` and
 * `_2_conv` channels, the best-scored ones, counted in multiples of 8 (MLAS's wasm int8 kernel computes output
 * channels in blocks of 8 and pads a partial block with zeros: ../shared/reference/PRUNING.md §5). The residual
 * stream (stem, `_3_conv`, projections) keeps its width, so no add ever sees mismatched channels. The result is
 * a description with the new widths and the weights cut to them: the same function on the channels kept.
 */
import type { ResNetDescription } from '../network/description.js';
import type { LayerWeights, WeightArray } from '../sources/layer-weights.js';
import { PruneInputError, prunableConvolutions, type ChannelScores } from './rank.js';

/** Channels counts are rounded to this (and never go below it). */
export const CHANNEL_MULTIPLE = 8;

/** Channels kept of `width` at `keep`: the nearest multiple of 8, at least 8, at most `width`. */
export function keptChannels(width: number, keep: number, multiple = CHANNEL_MULTIPLE): number {
  if (width <= multiple) return width;
  return Math.min(width, Math.max(multiple, Math.round((width * keep) / multiple) * multiple));
}

/** The `count` best-scored channel indices, in their original order. */
export function bestChannels(scores: Float64Array, count: number): number[] {
  return [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, count).sort((a, b) => a - b);
}

/** An NHWC kernel [kh, kw, cin, cout] cut to the input and output channels given (null: all). */
export function sliceKernel(kernel: WeightArray, inputs: number[] | null, outputs: number[] | null): WeightArray {
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const ins = inputs ?? [...Array(cin).keys()];
  const outs = outputs ?? [...Array(cout).keys()];
  const data = new Float32Array(kh * kw * ins.length * outs.length);
  let o = 0;
  for (let p = 0; p < kh * kw; p++) for (const i of ins) for (const c of outs) data[o++] = kernel.data[(p * cin + i) * cout + c]!;
  return { shape: [kh, kw, ins.length, outs.length], data };
}

const pick = (w: WeightArray, channels: number[]): WeightArray => ({ shape: [channels.length], data: Float32Array.from(channels, (c) => w.data[c]!) });

export interface PrunedNetwork {
  description: ResNetDescription;
  weights: LayerWeights;
  /** Convolution → the original indices of the channels it kept. */
  kept: Map<string, number[]>;
}

/** Cuts every block's inner channels to `keep` of their width, keeping the best by `scores`. */
export function pruneNetwork(d: ResNetDescription, weights: LayerWeights, scores: ChannelScores, keep: number): PrunedNetwork {
  if (!(keep > 0 && keep <= 1)) throw new PruneInputError(`--keep: expected a fraction in (0, 1], got ${keep}`);
  const out: LayerWeights = new Map(weights);
  const kept = new Map<string, number[]>();
  const choose = (conv: string, width: number) => {
    const s = scores.get(conv);
    if (!s || s.length !== width) throw new PruneInputError(`no channel scores for ${conv} (${width} channels)`);
    const channels = bestChannels(s, keptChannels(width, keep));
    kept.set(conv, channels);
    return channels;
  };
  const stages = d.stages.map((stage, i) => ({
    ...stage,
    blocks: stage.blocks.map((block, b) => {
      const name = `conv${i + 2}_block${b + 1}`;
      const reduce = choose(`${name}_1_conv`, block.reduce);
      const spatial = choose(`${name}_2_conv`, block.spatial);
      const conv = (layer: string, inputs: number[] | null, outputs: number[] | null) => {
        const [kernel, bias] = weights.get(layer)!;
        out.set(layer, [sliceKernel(kernel!, inputs, outputs), ...(bias ? [outputs ? pick(bias, outputs) : bias] : [])]);
      };
      conv(`${name}_1_conv`, null, reduce);
      out.set(`${name}_1_bn`, weights.get(`${name}_1_bn`)!.map((w) => pick(w, reduce)));
      conv(`${name}_2_conv`, reduce, spatial);
      out.set(`${name}_2_bn`, weights.get(`${name}_2_bn`)!.map((w) => pick(w, spatial)));
      conv(`${name}_3_conv`, spatial, null);
      return { reduce: reduce.length, spatial: spatial.length };
    }),
  }));
  // Every prunable layer was scored and cut (a description and weights that disagree are caught here).
  for (const conv of prunableConvolutions(d)) if (!kept.has(conv)) throw new PruneInputError(`${conv} was not pruned`);
  return { description: { ...d, stages }, weights: out, kept };
}
