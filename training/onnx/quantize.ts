/**
 * @module Static int8 quantization in QDQ format, shaped for onnxruntime-web's WASM SIMD kernels:
 * per-channel symmetric int8 weights, per-tensor asymmetric uint8 activations (U8S8), int32 biases.
 * A ReLU after a Conv, Gemm or Add is absorbed: its output range starts at 0, so the uint8 QuantizeLinear
 * (zero point 0) clamps exactly like the ReLU did.
 */
import { activationNames, calibrate, type CalibrationOptions, type TensorRange } from './calibrate.js';
import { foldBatchNormNodes } from './fold.js';
import { encodeModel, getAttr, node, onnx, readFloats, tensor, type ModelProto, type NodeProto, type TensorProto } from './proto.js';

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** uint8 asymmetric parameters for a range that contains 0. */
export function activationParams({ min, max }: TensorRange): QuantParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi - lo < 1e-12) return { scale: 1, zeroPoint: 0 };
  const scale = (hi - lo) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/** Symmetric int8 per-channel weights: channel c along `axis` gets scale max|W_c| / 127. */
export function quantizeWeightsPerChannel(w: Float32Array, dims: number[], axis: number): { q: Int8Array; scales: Float32Array } {
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const absMax = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) absMax[channelOf(i)] = Math.max(absMax[channelOf(i)], Math.abs(w[i]));
  const scales = absMax.map((m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / scales[channelOf(i)])));
  return { q, scales };
}

const ABSORBS_RELU = new Set(['Conv', 'Gemm', 'Add']);
/** Ops whose output keeps the input's quantization parameters (no rescaling needed). */
const PASSES_PARAMS = new Set(['MaxPool', 'Flatten', 'Reshape']);

export interface QuantizationSummary {
  method: CalibrationOptions['method'];
  calibrationImages: number;
  quantizedTensors: number;
  quantizedWeights: number;
  absorbedRelus: number;
  foldedBatchNorms: number;
}

const scalarF = (name: string, v: number) => tensor(name, [], Float32Array.of(v));
const scalarU8 = (name: string, v: number) => tensor(name, [], Uint8Array.of(v));

/**
 * Quantizes a float ONNX classifier. `inputs` are preprocessed calibration images (NCHW, `dims` each), made
 * by the same preprocessing the Worker uses.
 */
export async function quantizeStatic(fp32: ModelProto, inputs: Float32Array[], dims: number[], options: CalibrationOptions): Promise<{ model: ModelProto; summary: QuantizationSummary }> {
  const m = onnx.ModelProto.decode(encodeModel(fp32));
  const graph = m.graph!;
  const foldedBatchNorms = foldBatchNormNodes(m);
  const ranges = await calibrate(m, activationNames(m), inputs, dims, options);

  const outputs = new Set((graph.output ?? []).map((o) => o.name!));
  const inits = new Map<string, TensorProto>((graph.initializer ?? []).map((t) => [t.name!, t]));
  const consumers = new Map<string, NodeProto[]>();
  for (const n of graph.node!) for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);

  // Absorb ReLUs: the producer writes the ReLU's output name; that tensor's range already starts at 0.
  const dropped = new Set<NodeProto>();
  const producerOf = new Map(graph.node!.map((n) => [n.output![0], n]));
  for (const n of graph.node!) {
    if (n.opType !== 'Relu') continue;
    const p = producerOf.get(n.input![0]);
    if (!p || !ABSORBS_RELU.has(p.opType!) || consumers.get(n.input![0])!.length !== 1 || outputs.has(n.input![0])) continue;
    p.output = [n.output![0]];
    dropped.add(n);
  }
  const nodes = graph.node!.filter((n) => !dropped.has(n));

  // Which activations get Q/DQ, and with what parameters (in topological order, so propagation works).
  const params = new Map<string, QuantParams>();
  const consumersAfter = new Map<string, NodeProto[]>();
  for (const n of nodes) for (const i of n.input ?? []) consumersAfter.set(i, [...(consumersAfter.get(i) ?? []), n]);
  const wantsQdq = (t: string) => !outputs.has(t) && (consumersAfter.get(t) ?? []).some((c) => c.opType !== 'Softmax');
  const graphInputs = (graph.input ?? []).map((i) => i.name!).filter((name) => !inits.has(name));
  for (const name of graphInputs) if (wantsQdq(name)) params.set(name, activationParams(ranges.get(name)!));
  for (const n of nodes) {
    const out = n.output![0];
    if (!wantsQdq(out)) continue;
    const inherited = PASSES_PARAMS.has(n.opType!) ? params.get(n.input![0]) : undefined;
    params.set(out, inherited ?? activationParams(ranges.get(out)!));
  }

  const newInits: TensorProto[] = [];
  const newNodes: NodeProto[] = [];
  const dq = (t: string) => (params.has(t) ? `${t}_dequantized` : t);
  const emitQdq = (t: string) => {
    const p = params.get(t);
    if (!p) return;
    newInits.push(scalarF(`${t}_scale`, p.scale), scalarU8(`${t}_zero_point`, p.zeroPoint));
    newNodes.push(node('QuantizeLinear', [t, `${t}_scale`, `${t}_zero_point`], [`${t}_quantized`], `${t}_QuantizeLinear`));
    newNodes.push(node('DequantizeLinear', [`${t}_quantized`, `${t}_scale`, `${t}_zero_point`], [`${t}_dequantized`], `${t}_DequantizeLinear`));
  };
  let quantizedWeights = 0;
  const quantizeWeight = (n: NodeProto, weightName: string, axis: number, biasName?: string) => {
    const w = inits.get(weightName)!;
    const dims = w.dims!.map(Number);
    const { q, scales } = quantizeWeightsPerChannel(readFloats(w), dims, axis);
    const base = `${n.name || n.output![0]}`;
    newInits.push(tensor(`${base}_W_quantized`, dims, q), tensor(`${base}_W_scale`, [scales.length], scales), tensor(`${base}_W_zero_point`, [scales.length], new Int8Array(scales.length)));
    newNodes.push(node('DequantizeLinear', [`${base}_W_quantized`, `${base}_W_scale`, `${base}_W_zero_point`], [`${base}_W_dequantized`], `${base}_W_DequantizeLinear`, { axis }));
    const inputs = [...n.input!];
    inputs[1] = `${base}_W_dequantized`;
    const inputScale = params.get(n.input![0])?.scale;
    if (biasName && inits.has(biasName) && inputScale !== undefined) {
      const b = readFloats(inits.get(biasName)!);
      const bScale = scales.map((s) => s * inputScale);
      const bq = Int32Array.from(b, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / bScale[c]))));
      newInits.push(tensor(`${base}_B_quantized`, [b.length], bq), tensor(`${base}_B_scale`, [b.length], bScale), tensor(`${base}_B_zero_point`, [b.length], new Int32Array(b.length)));
      newNodes.push(node('DequantizeLinear', [`${base}_B_quantized`, `${base}_B_scale`, `${base}_B_zero_point`], [`${base}_B_dequantized`], `${base}_B_DequantizeLinear`, { axis: 0 }));
      inputs[2] = `${base}_B_dequantized`;
    }
    n.input = inputs;
    quantizedWeights++;
  };

  for (const name of graphInputs) emitQdq(name);
  for (const n of nodes) {
    const original = [...n.input!];
    if (n.opType === 'Conv' && inits.has(original[1])) quantizeWeight(n, original[1], 0, original[2]);
    if (n.opType === 'Gemm' && inits.has(original[1])) quantizeWeight(n, original[1], getAttr(n, 'transB') === 1 ? 0 : 1, original[2]);
    n.input = n.input!.map((i, k) => (k === 0 || !inits.has(original[k]) ? dq(i) : i));
    newNodes.push(n);
    for (const out of n.output!) emitQdq(out);
  }
  const used = new Set(newNodes.flatMap((n) => n.input ?? []));
  graph.node = newNodes;
  graph.initializer = [...(graph.initializer ?? []).filter((t) => used.has(t.name!)), ...newInits];
  graph.valueInfo = [];
  return {
    model: m,
    summary: {
      method: options.method,
      calibrationImages: inputs.length,
      quantizedTensors: params.size,
      quantizedWeights,
      absorbedRelus: dropped.size,
      foldedBatchNorms,
    },
  };
}
