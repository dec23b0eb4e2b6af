/**
 * @module Structured pruning of the bottlenecks' inner channels: each block keeps `keep` of its `_1_conv` and
 * `_2_conv` channels, the best-scored ones, counted in multiples of 8 (MLAS's wasm int8 kernel computes output
 * channels in blocks of 8 and pads a partial block with zeros: ../shared/reference/PRUNING.md §5). The residual
 * stream (stem, `_3_conv`, projections) keeps its width unless `keepStream` < 1: then each stage's stream loses
 * channels as one group — the projection, every `_3_conv` writing into it, every convolution reading it, and the
 * head's first layer after the last stage — so no add ever sees mismatched channels (the coupled groups of
 * DepGraph, Fang et al. CVPR 2023). The result is a description with the new widths and the weights cut to them:
 * the same function on the channels kept.
 */
import type { ResNetDescription } from '../network/description.js';
import { headLayerNames } from '../network/resnet.js';
import type { LayerWeights, WeightArray } from '../sources/layer-weights.js';
import { PruneInputError, prunableConvolutions, streamConvolutions, type ChannelScores } from './rank.js';

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
  /** Convolution → the original indices of the channels it kept (a stream: `conv3_stream`). */
  kept: Map<string, number[]>;
}

/**
 * One score per stream channel from its coupled layers: each layer's scores over their mean (so that no layer
 * decides alone by its scale: a residual branch's γ starts at 0.2, a projection's at 1), summed.
 */
export function streamScores(scores: ChannelScores, convs: string[], width: number): Float64Array {
  const sum = new Float64Array(width);
  for (const conv of convs) {
    const s = scores.get(conv);
    if (!s || s.length !== width) throw new PruneInputError(`no channel scores for ${conv} (${width} channels)`);
    const mean = s.reduce((a, b) => a + b, 0) / width || 1;
    s.forEach((v, c) => (sum[c]! += v / mean));
  }
  return sum;
}

/**
 * The head's weights after the last stage keeps `channels` of its stream: its BN layers cut, the first dense's
 * inputs cut. A cut channel reads 0 from then on, and a head BN maps 0 to β − γμ/√(σ²+ε), not 0: that constant's
 * share of the dense's sums moves into its bias, so a channel that was silent leaves the function unchanged.
 */
function sliceHead(d: ResNetDescription, weights: LayerWeights, out: LayerWeights, channels: number[]) {
  if (d.pooling === 'flatten') throw new PruneInputError('--keep-stream: the head flattens the last map (no global pooling); only the inner widths (--keep) can be pruned');
  const names = headLayerNames(d);
  const width = d.stages.at(-1)!.width;
  const keptSet = new Set(channels);
  const cut = [...Array(width).keys()].filter((c) => !keptSet.has(c));
  let atZero = new Float64Array(width); // what each feature is when the trunk gives 0 there
  for (const [i, layer] of d.head.entries()) {
    if (layer.kind === 'dropout') continue;
    const name = names[i]!;
    const w = weights.get(name);
    if (!w) throw new PruneInputError(`the network has no weights for ${name}`);
    if (layer.kind === 'batch-norm') {
      const [gamma, beta, mean, variance] = w;
      atZero = atZero.map((x, c) => ((x - mean!.data[c]!) / Math.sqrt(variance!.data[c]! + layer.epsilon)) * gamma!.data[c]! + beta!.data[c]!);
      out.set(name, w.map((a) => pick(a, channels)));
      continue;
    }
    const [kernel, bias] = w;
    const units = kernel!.shape[1]!;
    const shift = new Float64Array(units);
    for (const c of cut) if (atZero[c] !== 0) for (let u = 0; u < units; u++) shift[u]! += atZero[c]! * kernel!.data[c * units + u]!;
    if (!bias && shift.some((v) => v !== 0)) throw new PruneInputError(`--keep-stream: ${name} has no bias to take the cut channels' constant share`);
    const sliced: WeightArray = { shape: [channels.length, units], data: Float32Array.from({ length: channels.length * units }, (_, k) => kernel!.data[channels[Math.floor(k / units)]! * units + (k % units)]!) };
    out.set(name, [sliced, ...(bias ? [{ shape: bias.shape, data: Float32Array.from(bias.data, (b, u) => b + shift[u]!) }] : [])]);
    return;
  }
}

/** Cuts every block's inner channels to `keep` of their width, and each stage's stream to `keepStream`, keeping the best by `scores`. */
export function pruneNetwork(d: ResNetDescription, weights: LayerWeights, scores: ChannelScores, keep: number, keepStream = 1): PrunedNetwork {
  if (!(keep > 0 && keep <= 1)) throw new PruneInputError(`--keep: expected a fraction in (0, 1], got ${keep}`);
  if (!(keepStream > 0 && keepStream <= 1)) throw new PruneInputError(`--keep-stream: expected a fraction in (0, 1], got ${keepStream}`);
  const out: LayerWeights = new Map(weights);
  const kept = new Map<string, number[]>();
  const choose = (conv: string, width: number) => {
    const s = scores.get(conv);
    if (!s || s.length !== width) throw new PruneInputError(`no channel scores for ${conv} (${width} channels)`);
    const channels = bestChannels(s, keptChannels(width, keep));
    kept.set(conv, channels);
    return channels;
  };
  const groups = streamConvolutions(d);
  // null: the stream keeps every channel (and the weights reading it are not cut on that side).
  const streams = d.stages.map((stage, i) => {
    if (keepStream === 1) return null;
    const channels = bestChannels(streamScores(scores, groups[i]!, stage.width), keptChannels(stage.width, keepStream));
    kept.set(`conv${i + 2}_stream`, channels);
    return channels;
  });
  const conv = (layer: string, inputs: number[] | null, outputs: number[] | null) => {
    if (!inputs && !outputs) return; // uncut on both sides: the weights as they were
    const [kernel, bias] = weights.get(layer)!;
    out.set(layer, [sliceKernel(kernel!, inputs, outputs), ...(bias ? [outputs ? pick(bias, outputs) : bias] : [])]);
  };
  const bn = (layer: string, channels: number[] | null) => {
    if (channels) out.set(layer, weights.get(layer)!.map((w) => pick(w, channels)));
  };
  const stages = d.stages.map((stage, i) => {
    const stream = streams[i]!;
    const previous = i === 0 ? null : streams[i - 1]!;
    return {
      ...stage,
      width: stream?.length ?? stage.width,
      blocks: stage.blocks.map((block, b) => {
        const name = `conv${i + 2}_block${b + 1}`;
        const input = b === 0 ? previous : stream;
        if (b === 0) {
          conv(`${name}_0_conv`, previous, stream);
          bn(`${name}_0_bn`, stream);
        }
        const reduce = choose(`${name}_1_conv`, block.reduce);
        const spatial = choose(`${name}_2_conv`, block.spatial);
        conv(`${name}_1_conv`, input, reduce);
        bn(`${name}_1_bn`, reduce);
        conv(`${name}_2_conv`, reduce, spatial);
        bn(`${name}_2_bn`, spatial);
        conv(`${name}_3_conv`, spatial, stream);
        bn(`${name}_3_bn`, stream);
        return { reduce: reduce.length, spatial: spatial.length };
      }),
    };
  });
  const last = streams.at(-1);
  if (last) sliceHead(d, weights, out, last);
  // Every prunable layer was scored and cut (a description and weights that disagree are caught here).
  for (const conv of prunableConvolutions(d)) if (!kept.has(conv)) throw new PruneInputError(`${conv} was not pruned`);
  return { description: { ...d, stages }, weights: out, kept };
}
