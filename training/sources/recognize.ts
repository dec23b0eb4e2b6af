/**
 * @module A source graph → the ResNet it is: the network description and its weights under our layer names.
 * Read from the structure, not the names (a Keras model built by hand, an ONNX export whose initializers are
 * `onnx::Conv_497`): stem (7×7/2 conv, BN, ReLU, 3×3/2 max-pool) → bottleneck blocks (conv → BN → ReLU ×2 →
 * conv → BN, added to the block's input or its 1×1 projection, ReLU) → pooling → the head's layers. A block
 * that projects starts a stage; which convolution strides says v1 or v1.5; the convolutions' output channels
 * are the widths, whatever a pruning tool left. A BN folded into its convolution comes back as an identity BN.
 */
import { headLayerNames } from '../network/resnet.js';
import { stageName, type BlockVariant, type BlockWidths, type DenseActivation, type HeadLayer, type ResNetDescription, type StageDescription } from '../network/description.js';
import { SourceError, type Op, type OpGraph, type OpNode, type Pads } from './graph.js';
import type { LayerWeights, WeightArray } from './layer-weights.js';

export interface Recognized {
  description: Omit<ResNetDescription, 'inputSize'>;
  /** Our layer name → its arrays in Keras order (conv: kernel[, bias]; BN: γ, β, mean, variance; dense: kernel, bias). */
  weights: LayerWeights;
  outputKind: 'probabilities' | 'logits';
  /** A Rescaling on the input (x · scale + offset on 0..255 values), part of the source's preprocessing. */
  inputScaling?: { scale: number; offset: number };
}

type Conv = Extract<Op, { kind: 'conv' }>;
type BatchNorm = Extract<Op, { kind: 'batch-norm' }>;
interface ConvUnit {
  node: OpNode;
  conv: Conv;
  bn: BatchNorm | null;
  /** The last node of conv [→ BN]. */
  end: OpNode;
}

const notResNet = (node: OpNode | undefined, expected: string) =>
  new SourceError(node ? `${node.sourceType} "${node.name}": expected ${expected}; this is not a ResNet classifier this tool reads` : `expected ${expected}, the graph ends there`);

export function recognizeResNet(graph: OpGraph): Recognized {
  const consumers = new Map<string, OpNode[]>();
  for (const node of graph.nodes.values()) for (const i of node.inputs) consumers.set(i, [...(consumers.get(i) ?? []), node]);
  // Identities and dropouts between layers carry nothing the network description needs (dropout is in the head only).
  const skipIdentity = (n: OpNode): OpNode => {
    let node = n;
    while (node.op.kind === 'identity') node = sole(node);
    return node;
  };
  const after = (n: OpNode): OpNode[] => (consumers.get(n.name) ?? []).map(skipIdentity);
  const sole = (n: OpNode): OpNode => {
    const next = consumers.get(n.name) ?? [];
    if (next.length !== 1) throw notResNet(n, next.length === 0 ? 'more layers after it' : `one consumer, not ${next.length}`);
    return skipIdentity(next[0]!);
  };
  const isOutput = (n: OpNode) => n.name === graph.output;

  /** conv [→ BN], with any zero padding before the conv added to its own. */
  const convUnit = (start: OpNode): ConvUnit & { pads: Pads | 'same' } => {
    let node = start;
    let pads: Pads = [0, 0, 0, 0];
    while (node.op.kind === 'pad') {
      pads = pads.map((p, i) => p + (node.op as Extract<Op, { kind: 'pad' }>).pads[i]!) as Pads;
      node = sole(node);
    }
    if (node.op.kind !== 'conv') throw notResNet(node, 'a convolution');
    const conv = node.op;
    if (conv.pads === 'same' && pads.some((p) => p > 0)) throw notResNet(node, "one kind of padding (explicit, or 'same')");
    const total: Pads | 'same' = conv.pads === 'same' ? 'same' : (conv.pads.map((p, i) => p + pads[i]!) as Pads);
    const next = after(node);
    const bnNode = next.length === 1 && next[0]!.op.kind === 'batch-norm' ? next[0]! : null;
    return { node, conv, bn: bnNode ? (bnNode.op as BatchNorm) : null, end: bnNode ?? node, pads: total };
  };
  const expectRelu = (n: OpNode) => {
    const next = sole(n);
    if (next.op.kind !== 'relu') throw notResNet(next, `a ReLU after ${n.name}`);
    return next;
  };
  const isSymmetric = (pads: Pads | 'same', p: number) => pads !== 'same' && pads.every((v) => v === p);

  // Preprocessing inside the model (Keras Rescaling) is read out; the network starts after it.
  let at = graph.nodes.get(graph.input)!;
  let inputScaling: Recognized['inputScaling'];
  let first = sole(at);
  if (first.op.kind === 'rescale') {
    inputScaling = { scale: first.op.scale, offset: first.op.offset };
    at = first;
    first = sole(at);
  }

  // Stem: 7×7/2 convolution padded by 3 (Keras: ZeroPadding2D(3) + 'valid'; torch: pads 3), BN, ReLU, 3×3/2 max-pool padded by 1.
  const stem = convUnit(first);
  if (stem.conv.kernel.join() !== '7,7' || stem.conv.stride.join() !== '2,2' || !isSymmetric(stem.pads, 3)) {
    throw notResNet(stem.node, `the ResNet stem, a 7×7 stride-2 convolution padded by 3 (got ${stem.conv.kernel.join('×')}, stride ${stem.conv.stride.join('×')}, pads ${JSON.stringify(stem.pads)})`);
  }
  const stemRelu = expectRelu(stem.end);
  let pool = sole(stemRelu);
  let poolPads: Pads = [0, 0, 0, 0];
  while (pool.op.kind === 'pad') {
    poolPads = poolPads.map((p, i) => p + (pool.op as Extract<Op, { kind: 'pad' }>).pads[i]!) as Pads;
    pool = sole(pool);
  }
  if (pool.op.kind !== 'max-pool' || pool.op.kernel.join() !== '3,3' || pool.op.stride.join() !== '2,2' || pool.op.pads === 'same' || !pool.op.pads.every((p, i) => p + poolPads[i]! === 1)) {
    throw notResNet(pool, 'the stem max-pool, 3×3 stride 2 padded by 1');
  }

  // Bottleneck blocks until the head.
  const units = new Map<string, ConvUnit>(); // our layer name → the unit holding its weights
  const stages: StageDescription[] = [];
  let variant: BlockVariant | null = null;
  let t: OpNode = pool;
  units.set('conv1_conv', stem);
  for (;;) {
    const next = after(t);
    if (next.some((n) => ['global-pool', 'flatten', 'dense'].includes(n.op.kind)) || isOutput(t)) break;
    const convs = next.filter((n) => n.op.kind === 'conv' || n.op.kind === 'pad');
    const add = next.find((n) => n.op.kind === 'add');
    // The residual branch is the convolution followed by a ReLU; a projection goes straight to the add.
    const startsBranch = (n: OpNode) => {
      const u = convUnit(n);
      const following = after(u.end);
      return following.length === 1 && following[0]!.op.kind === 'relu';
    };
    const branchStart = convs.find(startsBranch);
    const projectionStart = convs.find((n) => n !== branchStart);
    if (!branchStart || (!projectionStart && !add) || next.length > 2) throw notResNet(next[0] ?? t, `a bottleneck block reading ${t.name}`);
    const a = convUnit(branchStart);
    const b = convUnit(sole(expectRelu(a.end)));
    const c = convUnit(sole(expectRelu(b.end)));
    const sum = sole(c.end);
    if (sum.op.kind !== 'add') throw notResNet(sum, `the residual addition after ${c.node.name}`);
    const projection = projectionStart ? convUnit(projectionStart) : null;
    const shortcutEnd = projection ? projection.end : t;
    const summed = sum.inputs.map((n) => skipBack(graph.nodes.get(n)!, graph));
    if (summed.length !== 2 || !summed.includes(shortcutEnd.name) || !summed.includes(c.end.name)) {
      throw notResNet(sum, `the sum of ${c.end.name} and the block's shortcut`);
    }
    const out = expectRelu(sum);
    if (a.conv.kernel.join() !== '1,1' || b.conv.kernel.join() !== '3,3' || c.conv.kernel.join() !== '1,1' || (projection && projection.conv.kernel.join() !== '1,1')) {
      throw notResNet(b.node, `a bottleneck block (1×1, 3×3, 1×1 convolutions; got ${[a, b, c].map((u) => u.conv.kernel.join('×')).join(', ')})`);
    }
    if (!isSymmetric(b.pads, 1) && !(b.pads === 'same' && b.conv.stride[0] === 1)) throw notResNet(b.node, `a 3×3 convolution padded by 1 on every side (got ${JSON.stringify(b.pads)} at stride ${b.conv.stride[0]})`);
    const stride = Math.max(a.conv.stride[0], b.conv.stride[0]);
    const blockVariant: BlockVariant | null = stride === 1 ? null : a.conv.stride[0] === 2 ? 'v1' : 'v1.5';
    if (blockVariant && variant && blockVariant !== variant) throw notResNet(b.node, `every down-sampling block to stride at the same convolution (${variant} so far)`);
    variant ??= blockVariant;
    if (projection && projection.conv.stride[0] !== stride) throw notResNet(projection.node, `a projection with the block's stride ${stride}`);
    if (!projection && stride !== 1) throw notResNet(a.node, 'a stride-1 identity block (a down-sampling block needs a projection)');
    const widths: BlockWidths = { reduce: outChannels(a.conv), spatial: outChannels(b.conv) };
    const width = outChannels(c.conv);
    if (projection || stages.length === 0) stages.push({ width, stride: stride as 1 | 2, blocks: [] });
    const stage = stages.at(-1)!;
    if (width !== stage.width) throw notResNet(c.node, `the stage's residual width ${stage.width} (got ${width})`);
    stage.blocks.push(widths);
    const name = `${stageName(stages.length - 1)}_block${stage.blocks.length}`;
    if (projection) units.set(`${name}_0_conv`, projection);
    units.set(`${name}_1_conv`, a);
    units.set(`${name}_2_conv`, b);
    units.set(`${name}_3_conv`, c);
    t = out;
  }
  if (stages.length === 0) throw notResNet(t, 'bottleneck blocks after the stem');

  // Head: pooling, then dense / dropout / batch-norm layers, the last dense the classifier.
  let node = sole(t);
  let pooling: ResNetDescription['pooling'];
  let flattenOrder: 'hwc' | 'chw' = 'hwc';
  if (node.op.kind === 'global-pool') {
    pooling = node.op.mode;
    if (!isOutput(node) && sole(node).op.kind === 'flatten') node = sole(node);
  } else if (node.op.kind === 'flatten') {
    pooling = 'flatten';
    flattenOrder = node.op.order;
  } else throw notResNet(node, `global pooling or Flatten after the last block (${t.name})`);
  const head: HeadLayer[] = [];
  const headWeights: WeightArray[][] = [];
  let outputKind: Recognized['outputKind'] = 'logits';
  while (!isOutput(node)) {
    node = sole(node);
    const op = node.op;
    if (op.kind === 'dense') {
      const units = op.weight.shape[1]!;
      headWeights.push([op.weight, { shape: [units], data: op.bias ?? new Float32Array(units) }]);
      let activation: DenseActivation = 'linear';
      if (!isOutput(node)) {
        const following = sole(node);
        if (following.op.kind === 'relu' || following.op.kind === 'softmax') {
          activation = following.op.kind;
          node = following;
        }
      }
      head.push({ kind: 'dense', units, activation });
    } else if (op.kind === 'dropout') {
      head.push({ kind: 'dropout', rate: op.rate });
      headWeights.push([]);
    } else if (op.kind === 'batch-norm') {
      head.push({ kind: 'batch-norm', epsilon: op.epsilon });
      headWeights.push(bnArrays(op, op.epsilon));
    } else if (op.kind === 'softmax' && isOutput(node) && head.at(-1)?.kind === 'dense') {
      (head.at(-1) as Extract<HeadLayer, { kind: 'dense' }>).activation = 'softmax';
    } else {
      throw notResNet(node, 'a Dense, Dropout or BatchNormalization layer of the classifier head');
    }
  }
  const classifier = head.at(-1);
  if (classifier?.kind !== 'dense') throw notResNet(node, 'the classifier: a Dense layer at the end');
  if (classifier.activation === 'relu') throw notResNet(node, 'a classifier that ends in softmax or logits, not a ReLU');
  if (classifier.activation === 'softmax') outputKind = 'probabilities';
  // Hidden dense layers that end in softmax are not a ResNet head this tool builds.
  if (head.slice(0, -1).some((l) => l.kind === 'dense' && l.activation === 'softmax')) throw notResNet(node, 'softmax only on the classifier');

  // Weights under our names.
  const allConvs = [...units.values()];
  const convBias = allConvs.some((u) => u.conv.bias !== undefined);
  const bns = allConvs.map((u) => u.bn).filter((b): b is BatchNorm => b !== null);
  const bnEpsilon = bns[0]?.epsilon ?? 1e-5;
  const weights: LayerWeights = new Map();
  for (const [name, u] of units) {
    const cout = outChannels(u.conv);
    weights.set(name, convBias ? [u.conv.weight, { shape: [cout], data: u.conv.bias ?? new Float32Array(cout) }] : [u.conv.weight]);
    weights.set(name.replace(/_conv$/, '_bn'), u.bn ? bnArrays(u.bn, bnEpsilon) : identityBn(cout, bnEpsilon));
  }
  const description: Recognized['description'] = { variant: variant ?? 'v1.5', stemWidth: outChannels(stem.conv), stages, convBias, bnEpsilon, pooling, head };
  const headNames = headLayerNames(description);
  head.forEach((layer, i) => {
    if (layer.kind === 'dropout') return;
    let arrays = headWeights[i]!;
    // The first dense after a Flatten of an NCHW map reads channels-first: reorder its rows as Keras flattens (h, w, c).
    if (pooling === 'flatten' && flattenOrder === 'chw' && layer.kind === 'dense' && !head.slice(0, i).some((l) => l.kind === 'dense')) arrays = [chwRowsToHwc(arrays[0]!, stages.at(-1)!.width), arrays[1]!];
    weights.set(headNames[i]!, arrays);
  });
  return { description, weights, outputKind, ...(inputScaling ? { inputScaling } : {}) };
}

/** Through identities back to what really produced `n` (an add may read a projection's BN through an Identity). */
function skipBack(n: OpNode, graph: OpGraph): string {
  let node = n;
  while (node.op.kind === 'identity' && node.inputs.length === 1) node = graph.nodes.get(node.inputs[0]!)!;
  return node.name;
}

const outChannels = (conv: Conv) => conv.weight.shape[3]!;

/** A BN's arrays in Keras order, its variance shifted so that it divides by √(var + ε) with our ε. */
function bnArrays(bn: BatchNorm, epsilon: number): WeightArray[] {
  const shape = [bn.gamma.length];
  const variance = bn.epsilon === epsilon ? bn.variance : bn.variance.map((v) => v + bn.epsilon - epsilon);
  return [bn.gamma, bn.beta, bn.mean, variance].map((data) => ({ shape, data }));
}

/** A BN that computes nothing (the source folded it into the convolution): γ 1, β 0, mean 0, variance 1 − ε. */
function identityBn(channels: number, epsilon: number): WeightArray[] {
  const shape = [channels];
  return [new Float32Array(channels).fill(1), new Float32Array(channels), new Float32Array(channels), new Float32Array(channels).fill(1 - epsilon)].map((data) => ({ shape, data }));
}

/** Rows of a dense kernel that reads a flattened C×H×W map, reordered for one that reads H×W×C (square maps). */
function chwRowsToHwc(kernel: WeightArray, channels: number): WeightArray {
  const [inputs, units] = kernel.shape as [number, number];
  const side = Math.round(Math.sqrt(inputs / channels));
  if (side * side * channels !== inputs) throw new SourceError(`the classifier reads ${inputs} values after Flatten; ${channels} channels do not make a square map of them`);
  const out = new Float32Array(kernel.data.length);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < side * side; p++) out.set(kernel.data.subarray((c * side * side + p) * units, (c * side * side + p + 1) * units), (p * channels + c) * units);
  }
  return { shape: kernel.shape, data: out };
}
