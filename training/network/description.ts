/**
 * @module The one description of a ResNet classifier that every source maps onto, as timm's `ResNet(block,
 * layers, …)` arguments or transformers' `ResNetConfig` describe theirs: where the stride sits, the widths of
 * every block (a pruned network's too), the stem, the head. Importers only read a file into this and a set of
 * weights named by it; network/resnet.ts builds the graph from it, and nothing else does.
 */

/**
 * Where a bottleneck block that halves the map puts its stride: `v1` on the first 1×1 (Keras' ResNet50, He et
 * al. 2016), `v1.5` on the 3×3 (torchvision, timm, Hugging Face; torchvision PR #5977's note). Same weights
 * shapes, another function: a v1.5 file loaded into a v1 network loads, and computes something else.
 */
export type BlockVariant = 'v1' | 'v1.5';
export const BLOCK_VARIANTS: readonly BlockVariant[] = ['v1', 'v1.5'];

/** Inner widths of one bottleneck block: what a channel-pruning tool changes (the residual stream stays). */
export interface BlockWidths {
  /** Output channels of the first 1×1 convolution (`convS_blockB_1_conv`; torchvision `conv1`). */
  reduce: number;
  /** Output channels of the 3×3 convolution (`_2_conv`; torchvision `conv2`). */
  spatial: number;
}

/** A stage: blocks on one residual stream of `width` channels; the first block projects it (and strides). */
export interface StageDescription {
  width: number;
  stride: 1 | 2;
  blocks: BlockWidths[];
}

/** The layers after the last block, before the classifier; the last `dense` is the classifier itself. */
export type HeadLayer =
  | { kind: 'dense'; units: number; activation: DenseActivation }
  | { kind: 'dropout'; rate: number }
  | { kind: 'batch-norm'; epsilon: number };
export type DenseActivation = 'relu' | 'linear' | 'softmax';

export interface ResNetDescription {
  variant: BlockVariant;
  /** Channels of the 7×7 stride-2 stem convolution (64 in every published ResNet). */
  stemWidth: number;
  stages: StageDescription[];
  /** Convolutions carry a bias (Keras: `use_bias=True`; torch: `bias=False`). */
  convBias: boolean;
  /** BatchNormalization epsilon: Keras' ResNet 1.001e-5, torch's BatchNorm2d 1e-5. */
  bnEpsilon: number;
  /** How the last map becomes a vector: GlobalAveragePooling2D, GlobalMaxPooling2D or Flatten. */
  pooling: 'avg' | 'max' | 'flatten';
  head: HeadLayer[];
  /** Square input size in pixels. */
  inputSize: number;
}

/** ResNet50/101/152 as Keras' stage tables have them (He et al. 2016, table 1): blocks per stage. */
export const STAGE_BLOCKS = { 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3] } as const;
export type ResNetDepth = keyof typeof STAGE_BLOCKS;
export const RESNET_DEPTHS = [50, 101, 152] as const satisfies readonly ResNetDepth[];

/** Stage names and the bottleneck filters of an unpruned ResNet (the residual stream is 4×). */
export const STAGE_FILTERS = [64, 128, 256, 512] as const;

/** Depth as the paper counts it: the stem, three convolutions a block, the classifier. */
export const depthOf = (d: Pick<ResNetDescription, 'stages'>) => 2 + 3 * d.stages.reduce((n, s) => n + s.blocks.length, 0);

/** Stage `i` (0-based) is Keras' `conv{i+2}`. */
export const stageName = (i: number) => `conv${i + 2}`;

/** The classifier: the head's last layer. */
export function classifierOf(d: Pick<ResNetDescription, 'head'>) {
  const last = d.head.at(-1);
  if (last?.kind !== 'dense') throw new Error('a ResNet description ends its head with a dense classifier');
  return last;
}

export interface StandardOptions {
  depth?: ResNetDepth;
  variant?: BlockVariant;
  inputSize: number;
  classes: number;
  /** `recipe`: GAP → Dense(1024, relu) → [Dropout] → Dense(N, softmax) (the reference recipe); `keras`: GAP → Dense(N, softmax). */
  head?: 'recipe' | 'keras';
  dropout?: number;
  /** Keras defaults (bias, 1.001e-5) unless a torch source's are given. */
  convBias?: boolean;
  bnEpsilon?: number;
}

/** An unpruned ResNet of a published depth, Keras' layout unless told otherwise. */
export function standardResNet(o: StandardOptions): ResNetDescription {
  const depth = o.depth ?? 50;
  if (!(depth in STAGE_BLOCKS)) throw new RangeError(`depth must be one of ${RESNET_DEPTHS.join(', ')}, got ${depth}`);
  const head: HeadLayer[] = [];
  if ((o.head ?? 'recipe') === 'recipe') head.push({ kind: 'dense', units: 1024, activation: 'relu' });
  if ((o.dropout ?? 0) > 0) head.push({ kind: 'dropout', rate: o.dropout! });
  head.push({ kind: 'dense', units: o.classes, activation: 'softmax' });
  return {
    variant: o.variant ?? 'v1',
    stemWidth: 64,
    stages: STAGE_FILTERS.map((filters, i) => ({
      width: 4 * filters,
      stride: i === 0 ? 1 : 2,
      blocks: Array.from({ length: STAGE_BLOCKS[depth][i]! }, () => ({ reduce: filters, spatial: filters })),
    })),
    convBias: o.convBias ?? true,
    bnEpsilon: o.bnEpsilon ?? 1.001e-5,
    pooling: 'avg',
    head,
    inputSize: o.inputSize,
  };
}

/** What is wrong with a description, field by field (empty when it builds). */
export function descriptionProblems(d: ResNetDescription): string[] {
  const problems: string[] = [];
  const positive = (v: number, field: string) => {
    if (!Number.isInteger(v) || v < 1) problems.push(`${field}: expected a positive integer, got ${v}`);
  };
  if (!BLOCK_VARIANTS.includes(d.variant)) problems.push(`variant: expected v1 or v1.5, got ${d.variant}`);
  positive(d.stemWidth, 'stemWidth');
  if (!Number.isInteger(d.inputSize) || d.inputSize < 32) problems.push(`inputSize: expected an integer ≥ 32, got ${d.inputSize}`);
  if (d.stages.length === 0) problems.push('stages: none');
  d.stages.forEach((s, i) => {
    positive(s.width, `stages[${i}].width`);
    if (s.stride !== 1 && s.stride !== 2) problems.push(`stages[${i}].stride: expected 1 or 2, got ${s.stride}`);
    if (s.blocks.length === 0) problems.push(`stages[${i}].blocks: none`);
    s.blocks.forEach((b, j) => {
      positive(b.reduce, `stages[${i}].blocks[${j}].reduce`);
      positive(b.spatial, `stages[${i}].blocks[${j}].spatial`);
    });
  });
  if (!(d.bnEpsilon > 0)) problems.push(`bnEpsilon: expected > 0, got ${d.bnEpsilon}`);
  const last = d.head.at(-1);
  if (last?.kind !== 'dense') problems.push('head: must end with the dense classifier');
  else if (last.units < 2) problems.push(`head: the classifier has ${last.units} output(s); a classifier needs at least 2`);
  for (const [i, l] of d.head.entries()) {
    if (l.kind === 'dense') positive(l.units, `head[${i}].units`);
    if (l.kind === 'dropout' && !(l.rate >= 0 && l.rate < 1)) problems.push(`head[${i}].rate: expected [0, 1), got ${l.rate}`);
  }
  return problems;
}

/** Every width as the paper's ResNet has it (no pruning). */
export const hasPublishedWidths = (d: ResNetDescription) =>
  d.stemWidth === 64 && d.stages.length === 4 && d.stages.every((s, i) => s.width === 4 * STAGE_FILTERS[i]! && s.blocks.every((b) => b.reduce === STAGE_FILTERS[i] && b.spatial === STAGE_FILTERS[i]));

/** One line for logs and manifests: "ResNet50 v1.5, 5 classes, widths as published" / "…, pruned: 3.1 M of 23.5 M trunk parameters". */
export function describe(d: ResNetDescription): string {
  const classes = classifierOf(d).units;
  const standard = hasPublishedWidths(d);
  const head = d.head.map((l) => (l.kind === 'dense' ? `Dense(${l.units}${l.activation === 'linear' ? '' : `, ${l.activation}`})` : l.kind === 'dropout' ? `Dropout(${l.rate})` : 'BatchNormalization')).join(' → ');
  return `ResNet${depthOf(d)} ${d.variant}, ${classes} classes, ${standard ? 'published widths' : 'widths of its own (pruned)'}, head ${d.pooling} → ${head}`;
}

/** The architecture string a manifest carries: `resnet50`, `resnet50-v1.5`, `resnet50-v1.5-pruned`. */
export function architectureOf(d: ResNetDescription): string {
  return `resnet${depthOf(d)}${d.variant === 'v1' ? '' : '-v1.5'}${hasPublishedWidths(d) ? '' : '-pruned'}`;
}
