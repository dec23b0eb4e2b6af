/**
 * @module How much each inner channel of each bottleneck matters, by one of three published criteria:
 * - `l1`: the L1 norm of the channel's filter (Li et al., ICLR 2017), taken on the effective filter, its BN's
 *   scale γ/√(σ²+ε) folded in, so that a source with BN layers and one exported with BN folded rank alike;
 * - `bn-gamma`: |γ| of the channel's BN (Network Slimming, Liu et al. ICCV 2017); needs the BN layers, which
 *   an export that folded them no longer has (every γ reads 1): refused there;
 * - `taylor`: the first-order Taylor estimate of the loss change when the channel is removed, (γ·∂L/∂γ)²
 *   summed over mini-batches (Molchanov et al., CVPR 2019, "Taylor-FO-BN"); needs labelled images. With a
 *   folded BN (γ = 1, statistics 0/1) it is the channel's activation × gradient, their ICLR 2017 criterion.
 * Scores are per layer: channels are only compared with the other channels of the same convolution (a stream's
 * coupled layers are summed by prune/slice.ts). Each scorer takes the convolutions to score, the inner ones by default.
 */
import * as tf from '@tensorflow/tfjs';
import { isFoldedBatchNorm } from '../network/batch-norm-statistics.js';
import type { ResNetDescription } from '../network/description.js';
import { stageName } from '../network/description.js';
import type { LayerWeights, WeightArray } from '../sources/layer-weights.js';
import { crossEntropy } from '../train/loss.js';

export const PRUNE_CRITERIA = ['l1', 'bn-gamma', 'taylor'] as const;
export type PruneCriterion = (typeof PRUNE_CRITERIA)[number];

/** Convolution layer name (`conv3_block2_1_conv`) → one score per output channel (higher: keep). */
export type ChannelScores = Map<string, Float64Array>;

/** Bad options or a source the criterion cannot read: the CLI prints it and exits 2. */
export class PruneInputError extends Error {}

/** The prunable convolutions: each block's first 1×1 (`_1_conv`) and its 3×3 (`_2_conv`), in network order. */
export function prunableConvolutions(d: ResNetDescription): string[] {
  return d.stages.flatMap((s, i) => s.blocks.flatMap((_, b) => [1, 2].map((k) => `${stageName(i)}_block${b + 1}_${k}_conv`)));
}

/**
 * The convolutions that write each stage's residual stream: the first block's projection (`_0_conv`) and every
 * block's last 1×1 (`_3_conv`). Their outputs are added together, so their channels go or stay as one group
 * (DepGraph's coupled layers, Fang et al. CVPR 2023).
 */
export function streamConvolutions(d: ResNetDescription): string[][] {
  return d.stages.map((s, i) => [`${stageName(i)}_block1_0_conv`, ...s.blocks.map((_, b) => `${stageName(i)}_block${b + 1}_3_conv`)]);
}

/** What a cut to `keepStream` of the streams needs scored: the inner convolutions, and the stream writers when it cuts them. */
export const scoredConvolutions = (d: ResNetDescription, keepStream = 1) => [...prunableConvolutions(d), ...(keepStream < 1 ? streamConvolutions(d).flat() : [])];

const bnOf = (conv: string) => conv.replace(/_conv$/, '_bn');

function layer(weights: LayerWeights, name: string): WeightArray[] {
  const w = weights.get(name);
  if (!w) throw new PruneInputError(`the network has no weights for ${name}`);
  return w;
}

/** |γ| / √(σ² + ε) of a BN's channels: the scale it multiplies each channel by. */
function bnScale(bn: WeightArray[], epsilon: number): Float64Array {
  const [gamma, , , variance] = bn;
  return Float64Array.from(gamma!.data, (g, c) => Math.abs(g) / Math.sqrt(variance!.data[c]! + epsilon));
}

/** L1 norm of each output channel of an NHWC kernel [kh, kw, cin, cout]. */
function filterL1(kernel: WeightArray): Float64Array {
  const cout = kernel.shape.at(-1)!;
  const sums = new Float64Array(cout);
  kernel.data.forEach((v, i) => (sums[i % cout]! += Math.abs(v)));
  return sums;
}

export function l1Scores(d: ResNetDescription, weights: LayerWeights, convs = prunableConvolutions(d)): ChannelScores {
  return new Map(convs.map((conv) => {
    const l1 = filterL1(layer(weights, conv)[0]!);
    const scale = bnScale(layer(weights, bnOf(conv)), d.bnEpsilon);
    return [conv, l1.map((v, c) => v * scale[c]!)];
  }));
}


export function bnGammaScores(d: ResNetDescription, weights: LayerWeights, convs = prunableConvolutions(d)): ChannelScores {
  return new Map(convs.map((conv) => {
    const bn = layer(weights, bnOf(conv));
    if (isFoldedBatchNorm(bn.map((w) => w.data), d.bnEpsilon)) {
      throw new PruneInputError(`--by bn-gamma: ${bnOf(conv)} was folded into ${conv} when the model was exported (every γ reads 1), so γ ranks nothing; use --by l1 or --by taylor, or prune the source file that still has its BatchNormalization layers`);
    }
    return [conv, Float64Array.from(bn[0]!.data, Math.abs)];
  }));
}

export interface LabelledBatch {
  /** NHWC images, preprocessed as the model's manifest says. */
  x: tf.Tensor4D;
  /** One-hot labels. */
  y: tf.Tensor2D;
}

/**
 * Taylor-FO-BN on `model` (built from `d` with its weights loaded; its BN in inference mode, as it serves):
 * Σ over batches of (γ·∂L/∂γ)² for the BN after every convolution in `convs` (the prunable ones unless told).
 */
export function taylorScores(d: ResNetDescription, model: tf.LayersModel, batches: Iterable<LabelledBatch>, convs = prunableConvolutions(d)): ChannelScores {
  const gammas = convs.map((conv) => (model.getLayer(bnOf(conv)).trainableWeights[0] as unknown as { val: tf.Variable }).val);
  const sums = convs.map((conv) => new Float64Array(model.getLayer(conv).outputShape.at(-1) as number));
  let seen = 0;
  for (const { x, y } of batches) {
    const { value, grads } = tf.variableGrads(() => crossEntropy(y, model.apply(x, { training: false }) as tf.Tensor), gammas);
    gammas.forEach((gamma, i) => {
      const g = grads[gamma.name]!.dataSync();
      const v = gamma.dataSync();
      g.forEach((gi, c) => (sums[i]![c]! += (gi * v[c]!) ** 2));
    });
    tf.dispose([value, ...Object.values(grads)]);
    seen++;
  }
  if (seen === 0) throw new PruneInputError('--by taylor needs labelled training images: none were given');
  return new Map(convs.map((conv, i) => [conv, sums[i]!]));
}
