/**
 * @module ResNet v1 (50, 101, 152) in tfjs-layers, written like Keras `applications/resnet.py`: one bottleneck
 * block → a stack of blocks → the network. Every layer carries the Keras name, so weights map by name.
 */
import * as tfl from '@tensorflow/tfjs';
import { useFusedBatchNorm } from '../tf/batch-norm.js';

/** The ResNet50 stage table: [stage name, filters, blocks, first stride]. */
export const RESNET50_STAGES = [
  ['conv2', 64, 3, 1],
  ['conv3', 128, 4, 2],
  ['conv4', 256, 6, 2],
  ['conv5', 512, 3, 2],
] as const;

export const RESNET_DEPTHS = [50, 101, 152] as const;
export type ResNetDepth = (typeof RESNET_DEPTHS)[number];

/** Blocks per stage (Keras' ResNet50/101/152: He et al. 2016, table 1); filters and strides are ResNet50's. */
export const STAGE_BLOCKS: Record<ResNetDepth, readonly [number, number, number, number]> = { 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3] };

/** The stage table of a depth. */
export const stagesOf = (depth: ResNetDepth) => RESNET50_STAGES.map(([name, filters, , stride], i) => [name, filters, STAGE_BLOCKS[depth][i]!, stride] as const);

/** Keras' ResNet BatchNormalization epsilon. */
const BN_EPSILON = 1.001e-5;

export interface ResNet50Options {
  inputSize: number;
  classes: number;
  /** 50 (default), 101 or 152: the same blocks, more of them in stages 3 and 4. */
  depth?: ResNetDepth;
  /** `recipe`: GAP → Dense(1024, relu) → Dense(N, softmax) (the reference recipe); `keras`: GAP → Dense(N, softmax) named `predictions`. */
  head?: 'recipe' | 'keras';
  /** Moving-average momentum of every BatchNormalization (Keras default 0.99). */
  bnMomentum?: number;
  /** Start each residual block as an identity (γ = 0 in its last BN): makes deep nets train from scratch. */
  zeroInitResidual?: boolean;
  /** γ of each residual branch's last BN when `zeroInitResidual` (default 0; a small value lets the branches learn from step one). */
  residualGamma?: number;
  /**
   * Which BatchNormalization layers use batch statistics while training. `all` is Keras. `stem` keeps them
   * only in conv1_bn; every other BN trains as a plain per-channel affine (its moving statistics stay 0/1),
   * which with zero-initialised residual branches is SkipInit (De & Smith, 2020): it trains from scratch
   * where batch statistics are too noisy (small batches, 1×1 maps at low resolution). Same layers, same
   * weights, same export either way.
   */
  batchStatistics?: 'all' | 'stem';
  /** Dropout rate before the classifier (0 = none). */
  dropout?: number;
  /** L2 factor on Dense kernels of the head (0 = none). */
  l2?: number;
  seed?: number;
}

export interface BlockContext {
  bnMomentum: number;
  zeroInitResidual: boolean;
  residualGamma?: number;
  /** Seed of the next initializer; advanced per layer, so a build is reproducible from its first seed. */
  seed: number;
}

const heNormal = (ctx: BlockContext) => tfl.initializers.heNormal({ seed: ctx.seed++ });

function conv(x: tfl.SymbolicTensor, filters: number, kernel: number, stride: number, padding: 'same' | 'valid', name: string, ctx: BlockContext) {
  return tfl.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding, name, kernelInitializer: heNormal(ctx) }).apply(x) as tfl.SymbolicTensor;
}

function bn(x: tfl.SymbolicTensor, name: string, ctx: BlockContext, residual = false) {
  const gammaInitializer = residual ? tfl.initializers.constant({ value: ctx.residualGamma ?? 0 }) : 'ones';
  return tfl.layers
    .batchNormalization({ axis: 3, epsilon: BN_EPSILON, momentum: ctx.bnMomentum, name, gammaInitializer })
    .apply(x) as tfl.SymbolicTensor;
}

const relu = (x: tfl.SymbolicTensor, name: string) => tfl.layers.activation({ activation: 'relu', name }).apply(x) as tfl.SymbolicTensor;

/** A bottleneck residual block (1×1 → 3×3 → 1×1, ×4 expansion), Keras `block1`. */
export function bottleneckBlock(x: tfl.SymbolicTensor, filters: number, stride: number, convShortcut: boolean, name: string, ctx: BlockContext) {
  let shortcut = x;
  if (convShortcut) {
    shortcut = conv(x, 4 * filters, 1, stride, 'valid', `${name}_0_conv`, ctx);
    shortcut = bn(shortcut, `${name}_0_bn`, ctx);
  }
  let y = conv(x, filters, 1, stride, 'valid', `${name}_1_conv`, ctx);
  y = relu(bn(y, `${name}_1_bn`, ctx), `${name}_1_relu`);
  y = conv(y, filters, 3, 1, 'same', `${name}_2_conv`, ctx);
  y = relu(bn(y, `${name}_2_bn`, ctx), `${name}_2_relu`);
  y = conv(y, 4 * filters, 1, 1, 'valid', `${name}_3_conv`, ctx);
  y = bn(y, `${name}_3_bn`, ctx, ctx.zeroInitResidual);
  const sum = tfl.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as tfl.SymbolicTensor;
  return relu(sum, `${name}_out`);
}

/** A stage: the first block projects (and strides), the rest are identity blocks. Keras `stack1`. */
export function stack(x: tfl.SymbolicTensor, filters: number, blocks: number, stride: number, name: string, ctx: BlockContext) {
  let y = bottleneckBlock(x, filters, stride, true, `${name}_block1`, ctx);
  for (let i = 2; i <= blocks; i++) y = bottleneckBlock(y, filters, 1, false, `${name}_block${i}`, ctx);
  return y;
}

/** The trunk without a top (Keras `include_top=False`): 175 layers for ResNet50, input included. */
export function resnet50Trunk(input: tfl.SymbolicTensor, ctx: BlockContext, depth: ResNetDepth = 50) {
  let x = tfl.layers.zeroPadding2d({ padding: 3, name: 'conv1_pad' }).apply(input) as tfl.SymbolicTensor;
  x = conv(x, 64, 7, 2, 'valid', 'conv1_conv', ctx);
  x = relu(bn(x, 'conv1_bn', ctx), 'conv1_relu');
  x = tfl.layers.zeroPadding2d({ padding: 1, name: 'pool1_pad' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }).apply(x) as tfl.SymbolicTensor;
  for (const [name, filters, blocks, stride] of stagesOf(depth)) x = stack(x, filters, blocks, stride, name, ctx);
  return x;
}

/** The classifier: a ResNet trunk (50 by default) + head, NHWC float32 input `input` of inputSize×inputSize×3. */
export function buildResNet50(options: ResNet50Options): tfl.LayersModel {
  const { inputSize, classes, head = 'recipe', dropout = 0, l2 = 0, seed = 1, depth = 50 } = options;
  if (!RESNET_DEPTHS.includes(depth)) throw new RangeError(`depth must be one of ${RESNET_DEPTHS.join(', ')}, got ${depth}`);
  if (!Number.isInteger(inputSize) || inputSize < 32) throw new RangeError(`inputSize must be an integer ≥ 32, got ${inputSize}`);
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError(`classes must be an integer ≥ 2, got ${classes}`);
  const ctx: BlockContext = { bnMomentum: options.bnMomentum ?? 0.99, zeroInitResidual: options.zeroInitResidual ?? false, residualGamma: options.residualGamma, seed };
  const input = tfl.input({ shape: [inputSize, inputSize, 3], name: 'input' });
  let x = resnet50Trunk(input, ctx, depth);
  x = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as tfl.SymbolicTensor;
  const kernelRegularizer = l2 > 0 ? tfl.regularizers.l2({ l2 }) : undefined;
  if (head === 'recipe') {
    x = tfl.layers.dense({ units: 1024, activation: 'relu', name: 'fc1', kernelRegularizer, kernelInitializer: heNormal(ctx) }).apply(x) as tfl.SymbolicTensor;
  }
  if (dropout > 0) x = tfl.layers.dropout({ rate: dropout, name: 'dropout', seed }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({ units: classes, activation: 'softmax', name: 'predictions', kernelRegularizer, kernelInitializer: tfl.initializers.glorotUniform({ seed: ctx.seed++ }) })
    .apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output, name: `resnet${depth}` });
  // Training-mode BN as one op with its own gradient (tf/batch-norm.ts): same numbers, a faster step.
  useFusedBatchNorm(model);
  if (options.batchStatistics === 'stem') {
    for (const layer of model.layers) {
      if (layer.getClassName() !== 'BatchNormalization' || layer.name === 'conv1_bn') continue;
      const call = layer.call.bind(layer);
      layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
    }
  }
  return model;
}

/** Trainable parameters of the network `options` builds (sizes the shared buffers of data-parallel training). */
export function trainableParameterCount(options: ResNet50Options): number {
  const model = buildResNet50(options);
  const count = model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
  model.dispose();
  return count;
}

/** Keras-style parameter count (trainable + BN moving statistics). */
export const countParams = (model: tfl.LayersModel) => model.countParams();
