/** @module Graph clean-ups before quantization: fold BatchNormalization into the convolution before it. */
import { readFloats, tensor, getAttr, type ModelProto, type TensorProto } from './proto.js';

export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** Folds y = γ·(x − μ)/√(σ² + ε) + β into per-output-channel weights (OIHW) and bias. */
export function foldBatchNorm(weightsOIHW: Float32Array, bias: Float32Array, bn: BatchNormParams) {
  const cout = bias.length;
  const perChannel = weightsOIHW.length / cout;
  const w = new Float32Array(weightsOIHW.length);
  const b = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const k = bn.gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon);
    for (let i = 0; i < perChannel; i++) w[o * perChannel + i] = weightsOIHW[o * perChannel + i] * k;
    b[o] = (bias[o] - bn.mean[o]) * k + bn.beta[o];
  }
  return { w, b };
}

/** In place: every Conv → BatchNormalization pair (the Conv output used only there) becomes one Conv. */
export function foldBatchNormNodes(m: ModelProto): number {
  const graph = m.graph!;
  const inits = new Map<string, TensorProto>((graph.initializer ?? []).map((t) => [t.name!, t]));
  const uses = new Map<string, number>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  const producer = new Map((graph.node ?? []).map((n) => [n.output![0], n]));
  const removed = new Set<object>();
  let folded = 0;
  for (const bn of graph.node ?? []) {
    if (bn.opType !== 'BatchNormalization') continue;
    const conv = producer.get(bn.input![0]);
    if (!conv || conv.opType !== 'Conv' || uses.get(bn.input![0]) !== 1) continue;
    const [gamma, beta, mean, variance] = bn.input!.slice(1, 5).map((n) => inits.get(n));
    const weight = inits.get(conv.input![1]);
    if (!gamma || !beta || !mean || !variance || !weight) continue;
    const cout = Number(weight.dims![0]);
    const biasName = conv.input![2];
    const bias = biasName ? readFloats(inits.get(biasName)!) : new Float32Array(cout);
    const epsilon = (getAttr(bn, 'epsilon') as number | undefined) ?? 1e-5;
    const { w, b } = foldBatchNorm(readFloats(weight), bias, { gamma: readFloats(gamma), beta: readFloats(beta), mean: readFloats(mean), variance: readFloats(variance), epsilon });
    const wName = `${conv.name || conv.output![0]}_W_folded`;
    const bName = `${conv.name || conv.output![0]}_B_folded`;
    graph.initializer!.push(tensor(wName, weight.dims!.map(Number), w), tensor(bName, [cout], b));
    conv.input = [conv.input![0], wName, bName];
    conv.output = [bn.output![0]];
    removed.add(bn);
    folded++;
  }
  graph.node = (graph.node ?? []).filter((n) => !removed.has(n));
  // Drop initializers nothing reads any more.
  const read = new Set((graph.node ?? []).flatMap((n) => n.input ?? []));
  graph.initializer = (graph.initializer ?? []).filter((t) => read.has(t.name!));
  return folded;
}
