/**
 * @module An ONNX classifier (torch.onnx.export of a torchvision or timm ResNet, BN folded or not, any opset
 * from 13; our own exports) → the source graph recognize.ts reads. Only the data path counts: shape arithmetic
 * (Shape → Gather → Concat → Reshape), Constant and Identity-of-initializer nodes (torch ≥ 1.13 writes those for
 * weights it deduplicated) are resolved, not recognised. Kernels OIHW → HWIO, `fc` [out, in] (transB) → [in, out].
 */
import { getAttr, readFloats, readInt64s, type ModelProto, type NodeProto, type TensorProto } from '../onnx/proto.js';
import { SourceError, type Op, type OpGraph, type OpNode, type Pads } from './graph.js';
import type { WeightArray } from './layer-weights.js';

export interface OnnxSource {
  graph: OpGraph;
  inputName: string;
  outputName: string;
  /** The square input size the file declares, or null when its spatial dimensions are symbolic. */
  inputSize: number | null;
  opset: number;
}

/** ONNX OIHW → Keras HWIO. */
export function toHWIO(w: Float32Array, [o, i, h, k]: number[]): WeightArray {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < h; y++) for (let x = 0; x < k; x++) out[((y * k + x) * i + b) * o + a] = w[((a * i + b) * h + y) * k + x]!;
  return { shape: [h!, k!, i!, o!], data: out };
}

/** [rows, cols] → [cols, rows]. */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/** Ops whose outputs are never image data (shape arithmetic). */
const SHAPE_OPS = new Set(['Shape', 'Size']);

export function readOnnxGraph(m: ModelProto, file: string): OnnxSource {
  const g = m.graph;
  if (!g) throw new SourceError(`${file}: no graph in the ONNX file`);
  const opset = Number(m.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  if (opset < 13) throw new SourceError(`${file}: opset ${opset}; this tool reads opset 13 and later (torch.onnx.export(..., opset_version=13) or newer)`);
  const constants = new Map<string, TensorProto>((g.initializer ?? []).map((t) => [t.name!, t]));
  const inputs = (g.input ?? []).filter((i) => !constants.has(i.name!));
  if (inputs.length !== 1) throw new SourceError(`${file}: ${inputs.length} graph inputs; a classifier has one image input`);
  const input = inputs[0]!;
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue === undefined || d.dimValue === null ? null : Number(d.dimValue)));
  if (dims.length !== 4 || dims[1] !== 3) throw new SourceError(`${file}: input "${input.name}" has shape ${JSON.stringify(dims)}; expected [N, 3, H, W]`);
  const [h, w] = [dims[2], dims[3]];
  if (h && w && h !== w) throw new SourceError(`${file}: input "${input.name}" is ${h}×${w}; this tool serves square inputs`);
  if ((g.output ?? []).length !== 1) throw new SourceError(`${file}: ${(g.output ?? []).length} graph outputs; a classifier has one`);
  const outputName = g.output![0]!.name!;

  const nodes = new Map<string, OpNode>();
  /** Tensor name → the node producing it on the data path. */
  const producer = new Map<string, string>();
  nodes.set('input', { name: 'input', sourceType: 'input', op: { kind: 'input' }, inputs: [] });
  producer.set(input.name!, 'input');
  const constant = (name: string | undefined | null) => (name ? constants.get(name) : undefined);
  const floats = (n: NodeProto, name: string | undefined | null, what: string) => {
    const t = constant(name);
    if (!t) throw new SourceError(`${n.opType} "${n.name}": its ${what} (${name}) is not a constant`);
    return readFloats(t);
  };
  const shapeOf = (name: string) => constants.get(name)!.dims!.map(Number);
  const add = (n: NodeProto, op: Op, dataInputs: string[]) => {
    const name = n.name || n.output![0]!;
    nodes.set(name, { name, sourceType: n.opType!, op, inputs: dataInputs.map((t) => producer.get(t)!) });
    producer.set(n.output![0]!, name);
  };

  for (const n of g.node ?? []) {
    const type = n.opType!;
    if (type === 'Constant') {
      const value = n.attribute?.find((a) => a.name === 'value')?.t;
      if (value) constants.set(n.output![0]!, { ...value, name: n.output![0]! });
      continue;
    }
    const data = (n.input ?? []).filter((i) => producer.has(i));
    if (data.length === 0) {
      // Not on the data path: an Identity of a weight (torch's deduplicated initializers) or shape arithmetic.
      if (type === 'Identity' && constant(n.input?.[0])) constants.set(n.output![0]!, { ...constant(n.input![0])!, name: n.output![0]! });
      continue;
    }
    if (SHAPE_OPS.has(type)) continue;
    const attr = (a: string) => getAttr(n, a);
    switch (type) {
      case 'Conv': {
        if ((attr('group') ?? 1) !== 1) throw new SourceError(`Conv "${n.name}": group ${attr('group')}; grouped convolutions (ResNeXt) are not built here`);
        if (((attr('dilations') as number[] | undefined) ?? [1, 1]).some((d) => d !== 1)) throw new SourceError(`Conv "${n.name}": dilated; not a ResNet convolution`);
        const wShape = shapeOf(n.input![1]!);
        const autoPad = attr('auto_pad') as string | undefined;
        const raw = (attr('pads') as number[] | undefined) ?? [0, 0, 0, 0];
        const pads: Pads | 'same' = autoPad === 'SAME_UPPER' ? 'same' : ([raw[0], raw[1], raw[2], raw[3]] as Pads);
        if (autoPad === 'SAME_LOWER') throw new SourceError(`Conv "${n.name}": auto_pad SAME_LOWER is not supported`);
        const stride = ((attr('strides') as number[] | undefined) ?? [1, 1]) as [number, number];
        const bias = n.input![2] ? floats(n, n.input![2], 'bias') : undefined;
        add(n, { kind: 'conv', kernel: [wShape[2]!, wShape[3]!], stride, pads, weight: toHWIO(floats(n, n.input![1], 'weight'), wShape), ...(bias ? { bias } : {}) }, [n.input![0]!]);
        break;
      }
      case 'BatchNormalization': {
        const [, scale, bias, mean, variance] = n.input!;
        add(n, { kind: 'batch-norm', gamma: floats(n, scale, 'scale'), beta: floats(n, bias, 'bias'), mean: floats(n, mean, 'mean'), variance: floats(n, variance, 'variance'), epsilon: (attr('epsilon') as number | undefined) ?? 1e-5 }, [n.input![0]!]);
        break;
      }
      case 'Relu':
        add(n, { kind: 'relu' }, [n.input![0]!]);
        break;
      case 'Softmax':
        add(n, { kind: 'softmax' }, [n.input![0]!]);
        break;
      case 'LogSoftmax': // log-probabilities: their softmax is the probabilities, so they serve as logits
      case 'Identity':
      case 'Dropout':
        add(n, { kind: 'identity' }, [n.input![0]!]);
        break;
      case 'MaxPool': {
        if ((attr('ceil_mode') ?? 0) !== 0) throw new SourceError(`MaxPool "${n.name}": ceil_mode; not a ResNet's stem pool`);
        const raw = (attr('pads') as number[] | undefined) ?? [0, 0, 0, 0];
        add(n, { kind: 'max-pool', kernel: attr('kernel_shape') as [number, number], stride: ((attr('strides') as number[] | undefined) ?? [1, 1]) as [number, number], pads: [raw[0], raw[1], raw[2], raw[3]] as Pads }, [n.input![0]!]);
        break;
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        add(n, { kind: 'global-pool', mode: type === 'GlobalAveragePool' ? 'avg' : 'max' }, [n.input![0]!]);
        break;
      case 'ReduceMean': {
        // timm's fast pooling: x.mean((2, 3)); axes an attribute before opset 18, an input after.
        const axes = ((attr('axes') as number[] | undefined) ?? (constant(n.input?.[1]) ? readInt64s(constant(n.input![1])!) : [])).map((a) => (a < 0 ? a + 4 : a));
        if (axes.sort().join() !== '2,3') throw new SourceError(`ReduceMean "${n.name}": over axes ${axes.join(', ')}; only global average pooling (axes 2, 3) is a ResNet's`);
        add(n, { kind: 'global-pool', mode: 'avg' }, [n.input![0]!]);
        break;
      }
      case 'Flatten':
      case 'Reshape':
      case 'Squeeze':
        add(n, { kind: 'flatten', order: 'chw' }, [n.input![0]!]);
        break;
      case 'Gemm': {
        if ((attr('transA') ?? 0) !== 0 || (attr('alpha') ?? 1) !== 1 || (attr('beta') ?? 1) !== 1) throw new SourceError(`Gemm "${n.name}": transA/alpha/beta other than a Linear layer's`);
        const [rows, cols] = shapeOf(n.input![1]!) as [number, number];
        const w = floats(n, n.input![1], 'weight');
        const kernel = (attr('transB') ?? 0) === 1 ? { shape: [cols, rows], data: transpose(w, rows, cols) } : { shape: [rows, cols], data: w };
        const bias = n.input![2] ? floats(n, n.input![2], 'bias') : undefined;
        add(n, { kind: 'dense', weight: kernel, ...(bias ? { bias } : {}) }, [n.input![0]!]);
        break;
      }
      case 'MatMul': {
        const [rows, cols] = shapeOf(n.input![1]!) as [number, number];
        add(n, { kind: 'dense', weight: { shape: [rows, cols], data: floats(n, n.input![1], 'weight') } }, [n.input![0]!]);
        break;
      }
      case 'Add': {
        if (data.length === 2) {
          add(n, { kind: 'add' }, data);
          break;
        }
        // MatMul + Add of a constant: the Linear layer's bias.
        const dense = nodes.get(producer.get(data[0]!)!)!;
        const biasName = n.input!.find((i) => !producer.has(i));
        if (dense.op.kind !== 'dense' || dense.op.bias) throw new SourceError(`Add "${n.name}": adds a constant to ${dense.name}, which is not a Linear layer's MatMul`);
        dense.op.bias = floats(n, biasName, 'bias');
        producer.set(n.output![0]!, dense.name);
        break;
      }
      default:
        throw new SourceError(`${type} "${n.name}": an operation no ResNet classifier layer exports to (a ResNet is Conv, BatchNormalization, Relu, Add, MaxPool, GlobalAveragePool, Flatten, Gemm, Softmax)`);
    }
  }
  const output = producer.get(outputName);
  if (!output) throw new SourceError(`${file}: the output "${outputName}" does not come from the image input`);
  return { graph: { nodes, input: 'input', output }, inputName: input.name!, outputName, inputSize: h ?? null, opset };
}
