/**
 * @module A ResNet classifier in tfjs-layers from its description (network/description.ts), written like Keras
 * `applications/resnet.py`: one bottleneck block → a stack of blocks → the network. Every layer carries the
 * Keras name (`conv2_block1_1_conv`, `_0_` for the projection), so weights map by name whatever their source.
 */
import * as tfl from '@tensorflow/tfjs';
import { useFusedBatchNorm } from '../tf/batch-norm.js';
import { classifierOf, descriptionProblems, stageName, standardResNet, type BlockVariant, type BlockWidths, type ResNetDepth, type ResNetDescription } from './description.js';

export { RESNET_DEPTHS, STAGE_BLOCKS, type ResNetDepth } from './description.js';

/** How the network is trained (not what it computes): initialisation, BN momentum and statistics, regularisation. */
export interface TrainingOptions {
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
  /** L2 factor on Dense kernels of the head (0 = none). */
  l2?: number;
  seed?: number;
}

/** A Keras-layout ResNet of a published depth and its training options (the default model and `train` without a source network). */
export interface ResNet50Options extends TrainingOptions {
  inputSize: number;
  classes: number;
  /** 50 (default), 101 or 152: the same blocks, more of them in stages 3 and 4. */
  depth?: ResNetDepth;
  /** `recipe`: GAP → Dense(1024, relu) → Dense(N, softmax) (the reference recipe); `keras`: GAP → Dense(N, softmax) named `predictions`. */
  head?: 'recipe' | 'keras';
  /** Dropout rate before the classifier (0 = none). */
  dropout?: number;
}

export interface BlockContext {
  variant: BlockVariant;
  convBias: boolean;
  bnEpsilon: number;
  bnMomentum: number;
  zeroInitResidual: boolean;
  residualGamma?: number;
  /** Seed of the next initializer; advanced per layer, so a build is reproducible from its first seed. */
  seed: number;
}

const heNormal = (ctx: BlockContext) => tfl.initializers.heNormal({ seed: ctx.seed++ });

function conv(x: tfl.SymbolicTensor, filters: number, kernel: number, stride: number, padding: 'same' | 'valid', name: string, ctx: BlockContext) {
  return tfl.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding, name, useBias: ctx.convBias, kernelInitializer: heNormal(ctx) }).apply(x) as tfl.SymbolicTensor;
}

function bn(x: tfl.SymbolicTensor, name: string, ctx: BlockContext, residual = false) {
  const gammaInitializer = residual ? tfl.initializers.constant({ value: ctx.residualGamma ?? 0 }) : 'ones';
  return tfl.layers
    .batchNormalization({ axis: 3, epsilon: ctx.bnEpsilon, momentum: ctx.bnMomentum, name, gammaInitializer })
    .apply(x) as tfl.SymbolicTensor;
}

const relu = (x: tfl.SymbolicTensor, name: string) => tfl.layers.activation({ activation: 'relu', name }).apply(x) as tfl.SymbolicTensor;
const zeroPad = (x: tfl.SymbolicTensor, padding: number, name: string) => tfl.layers.zeroPadding2d({ padding, name }).apply(x) as tfl.SymbolicTensor;

/**
 * A bottleneck residual block (1×1 → 3×3 → 1×1 back to the stream's `width`), Keras `block1`. v1 strides the
 * first 1×1; v1.5 the 3×3, padded by one pixel on every side as torch pads it (Keras' 'same' would pad only
 * after, at stride 2, and sample other pixels).
 */
export function bottleneckBlock(x: tfl.SymbolicTensor, widths: BlockWidths, width: number, stride: number, convShortcut: boolean, name: string, ctx: BlockContext) {
  let shortcut = x;
  if (convShortcut) {
    shortcut = conv(x, width, 1, stride, 'valid', `${name}_0_conv`, ctx);
    shortcut = bn(shortcut, `${name}_0_bn`, ctx);
  }
  const [strideFirst, strideSpatial] = ctx.variant === 'v1' ? [stride, 1] : [1, stride];
  let y = conv(x, widths.reduce, 1, strideFirst, 'valid', `${name}_1_conv`, ctx);
  y = relu(bn(y, `${name}_1_bn`, ctx), `${name}_1_relu`);
  y = strideSpatial === 1 ? conv(y, widths.spatial, 3, 1, 'same', `${name}_2_conv`, ctx) : conv(zeroPad(y, 1, `${name}_2_pad`), widths.spatial, 3, strideSpatial, 'valid', `${name}_2_conv`, ctx);
  y = relu(bn(y, `${name}_2_bn`, ctx), `${name}_2_relu`);
  y = conv(y, width, 1, 1, 'valid', `${name}_3_conv`, ctx);
  y = bn(y, `${name}_3_bn`, ctx, ctx.zeroInitResidual);
  const sum = tfl.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as tfl.SymbolicTensor;
  return relu(sum, `${name}_out`);
}

/** A stage: the first block projects (and strides), the rest are identity blocks. Keras `stack1`. */
export function stack(x: tfl.SymbolicTensor, blocks: BlockWidths[], width: number, stride: number, name: string, ctx: BlockContext) {
  let y = bottleneckBlock(x, blocks[0]!, width, stride, true, `${name}_block1`, ctx);
  for (let i = 1; i < blocks.length; i++) y = bottleneckBlock(y, blocks[i]!, width, 1, false, `${name}_block${i + 1}`, ctx);
  return y;
}

/** The trunk without a top (Keras `include_top=False`): 175 layers for a v1 ResNet50, input included. */
export function resnetTrunk(input: tfl.SymbolicTensor, d: ResNetDescription, ctx: BlockContext) {
  let x = zeroPad(input, 3, 'conv1_pad');
  x = conv(x, d.stemWidth, 7, 2, 'valid', 'conv1_conv', ctx);
  x = relu(bn(x, 'conv1_bn', ctx), 'conv1_relu');
  x = zeroPad(x, 1, 'pool1_pad');
  x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }).apply(x) as tfl.SymbolicTensor;
  d.stages.forEach((s, i) => (x = stack(x, s.blocks, s.width, s.stride, stageName(i), ctx)));
  return x;
}

/** Names of the head's layers: hidden Dense `fc1`, `fc2`…, the classifier `predictions`, then `dropout`, `head_bn` (numbered after the first). */
export function headLayerNames(d: Pick<ResNetDescription, 'head'>): string[] {
  const count: Record<string, number> = {};
  const numbered = (base: string) => (count[base] = (count[base] ?? 0) + 1) === 1 ? base : `${base}_${count[base]}`;
  return d.head.map((l, i) => (i === d.head.length - 1 ? 'predictions' : l.kind === 'dense' ? `fc${(count.fc = (count.fc ?? 0) + 1)}` : numbered(l.kind === 'dropout' ? 'dropout' : 'head_bn')));
}

/** The pooling layer's name: Keras' `avg_pool` (GlobalAveragePooling2D), `max_pool`, or `flatten`. */
export const poolingLayerName = (d: Pick<ResNetDescription, 'pooling'>) => ({ avg: 'avg_pool', max: 'max_pool', flatten: 'flatten' })[d.pooling];

/** The classifier a description describes, NHWC float32 input `input` of inputSize×inputSize×3. */
export function buildResNet(d: ResNetDescription, options: TrainingOptions = {}): tfl.LayersModel {
  const problems = descriptionProblems(d);
  if (problems.length > 0) throw new RangeError(`ResNet description: ${problems.join('; ')}`);
  const { l2 = 0, seed = 1 } = options;
  const ctx: BlockContext = { variant: d.variant, convBias: d.convBias, bnEpsilon: d.bnEpsilon, bnMomentum: options.bnMomentum ?? 0.99, zeroInitResidual: options.zeroInitResidual ?? false, residualGamma: options.residualGamma, seed };
  const input = tfl.input({ shape: [d.inputSize, d.inputSize, 3], name: 'input' });
  let x = resnetTrunk(input, d, ctx);
  const pooling = poolingLayerName(d);
  if (d.pooling === 'avg') x = tfl.layers.globalAveragePooling2d({ name: pooling }).apply(x) as tfl.SymbolicTensor;
  else if (d.pooling === 'max') x = tfl.layers.globalMaxPooling2d({ name: pooling }).apply(x) as tfl.SymbolicTensor;
  else x = tfl.layers.flatten({ name: pooling }).apply(x) as tfl.SymbolicTensor;
  const kernelRegularizer = l2 > 0 ? tfl.regularizers.l2({ l2 }) : undefined;
  const names = headLayerNames(d);
  d.head.forEach((layer, i) => {
    const name = names[i]!;
    const last = i === d.head.length - 1;
    if (layer.kind === 'dense') {
      // Hidden layers He-initialised (they feed a ReLU), the classifier Glorot as Keras' Dense default.
      const kernelInitializer = last ? tfl.initializers.glorotUniform({ seed: ctx.seed++ }) : heNormal(ctx);
      x = tfl.layers.dense({ units: layer.units, activation: layer.activation, name, kernelRegularizer, kernelInitializer }).apply(x) as tfl.SymbolicTensor;
    } else if (layer.kind === 'dropout') {
      x = tfl.layers.dropout({ rate: layer.rate, name, seed }).apply(x) as tfl.SymbolicTensor;
    } else {
      x = tfl.layers.batchNormalization({ epsilon: layer.epsilon, momentum: ctx.bnMomentum, name }).apply(x) as tfl.SymbolicTensor;
    }
  });
  classifierOf(d);
  const model = tfl.model({ inputs: input, outputs: x, name: `resnet${2 + 3 * d.stages.reduce((n, s) => n + s.blocks.length, 0)}` });
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

/** A Keras-layout ResNet50 (or 101, 152) with the recipe's or Keras' head. */
export function buildResNet50(options: ResNet50Options): tfl.LayersModel {
  const { inputSize, classes, depth = 50 } = options;
  if (!Number.isInteger(inputSize) || inputSize < 32) throw new RangeError(`inputSize must be an integer ≥ 32, got ${inputSize}`);
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError(`classes must be an integer ≥ 2, got ${classes}`);
  return buildResNet(standardResNet({ depth, inputSize, classes, head: options.head, dropout: options.dropout }), options);
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
