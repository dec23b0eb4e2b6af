/**
 * @module tfjs-layers model (our ResNet50, NHWC) → ONNX (NCHW, opset 13): BatchNorm folded into the preceding
 * convolution, ZeroPadding folded into pads, node names = Keras layer names, output `probabilities`.
 */
import type * as tfl from '@tensorflow/tfjs';
import { foldBatchNorm } from './fold.js';
import { int64Tensor, model, node, tensor, valueInfo, type ModelProto, type NodeProto, type TensorProto } from './proto.js';

export const INPUT_NAME = 'input';
/** The output of a classifier ending in softmax; one ending in a linear Dense outputs `logits`. */
export const OUTPUT_NAME = 'probabilities';
export const LOGITS_NAME = 'logits';

type Layer = tfl.layers.Layer;
type Pads = [number, number, number, number]; // top, left, bottom, right

interface ExportState {
  nodes: NodeProto[];
  initializers: TensorProto[];
  /** Layer name → the ONNX tensor holding its output. */
  tensorOf: Map<string, string>;
  /** ZeroPadding2D layer name → its pads and the tensor it pads (folded into the consumer). */
  pendingPads: Map<string, { source: string; pads: Pads; sourceIsRelu: boolean }>;
  /** A head BatchNormalization on a feature vector (layer name → y = x·scale + shift), folded into the next Dense. */
  pendingAffine: Map<string, { scale: Float32Array; shift: Float32Array }>;
}

const inboundNames = (layer: Layer): string[] => layer.inboundNodes[0]?.inboundLayers.map((l) => l.name) ?? [];
const className = (layer: Layer) => layer.getClassName();
const config = (layer: Layer) => layer.getConfig() as Record<string, unknown>;

function values(w: tfl.Tensor): Float32Array {
  return w.dataSync() as Float32Array;
}

/** Keras conv kernel [kh, kw, cin, cout] → ONNX [cout, cin, kh, kw]. */
function toOIHW(kernel: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) out[((o * cin + c) * kh + i) * kw + j] = kernel[((i * kw + j) * cin + c) * cout + o];
  return out;
}

function samePads(inSize: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kernel - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Resolves a layer's input tensor, applying (or materialising) a pending ZeroPadding2D. */
function inputWithPads(state: ExportState, inbound: string, canFold: (p: { sourceIsRelu: boolean }) => boolean): { input: string; pads: Pads } {
  const pending = state.pendingPads.get(inbound);
  if (!pending) return { input: state.tensorOf.get(inbound)!, pads: [0, 0, 0, 0] };
  if (canFold(pending)) return { input: pending.source, pads: pending.pads };
  const [t, l, b, r] = pending.pads;
  const padsName = `${inbound}_pads`;
  state.initializers.push(int64Tensor(padsName, [0, 0, t, l, 0, 0, b, r]));
  state.nodes.push(node('Pad', [pending.source, padsName], [inbound], inbound, { mode: 'constant' }));
  return { input: inbound, pads: [0, 0, 0, 0] };
}

function exportConv(state: ExportState, layer: Layer, consumers: Map<string, Layer[]>) {
  const cfg = config(layer);
  const [kernelT, biasT] = layer.getWeights();
  const kshape = kernelT.shape as number[];
  let w = toOIHW(values(kernelT), kshape);
  let b = biasT ? Float32Array.from(values(biasT)) : new Float32Array(kshape[3]);
  const strides = cfg.strides as number[];
  const { input, pads } = inputWithPads(state, inboundNames(layer)[0], () => true);
  if (cfg.padding === 'same') {
    const inShape = (layer.inputSpec?.[0]?.shape ?? (layer.getInputAt(0) as tfl.SymbolicTensor).shape) as number[];
    const [pt, pb] = samePads(inShape[1], kshape[0], strides[0]);
    const [pl, pr] = samePads(inShape[2], kshape[1], strides[1]);
    pads[0] += pt; pads[1] += pl; pads[2] += pb; pads[3] += pr;
  }
  // Fold a BatchNormalization that is this convolution's only consumer.
  let outName = layer.name;
  const next = consumers.get(layer.name) ?? [];
  if (next.length === 1 && className(next[0]) === 'BatchNormalization') {
    const bnLayer = next[0];
    const [gamma, beta, mean, variance] = bnLayer.getWeights().map(values);
    ({ w, b } = foldBatchNorm(w, b, { gamma, beta, mean, variance, epsilon: config(bnLayer).epsilon as number }));
    outName = bnLayer.name;
    state.tensorOf.set(bnLayer.name, outName);
  }
  const [cin, cout] = [kshape[2], kshape[3]];
  state.initializers.push(tensor(`${layer.name}_W`, [cout, cin, kshape[0], kshape[1]], w), tensor(`${layer.name}_B`, [cout], b));
  state.nodes.push(node('Conv', [input, `${layer.name}_W`, `${layer.name}_B`], [outName], layer.name, { kernel_shape: [kshape[0], kshape[1]], strides, pads, dilations: [1, 1], group: 1 }));
  state.tensorOf.set(layer.name, outName);
}

function exportActivation(state: ExportState, name: string, activation: string, input: string, output: string) {
  if (activation === 'relu') state.nodes.push(node('Relu', [input], [output], name));
  else if (activation === 'softmax') state.nodes.push(node('Softmax', [input], [output], name, { axis: 1 }));
  else if (activation === 'linear') state.nodes.push(node('Identity', [input], [output], name));
  else throw new Error(`ONNX export: activation ${activation} is not supported`);
}

/**
 * Exports a tfjs-layers CNN built from the layer types ResNet50 uses. A model ending in a Dense layer gets the
 * one output `probabilities`; any other model (4-D outputs) gets one NCHW output per output tensor.
 */
export function exportToOnnx(m: tfl.LayersModel, { dynamicBatch = true } = {}): ModelProto {
  const state: ExportState = { nodes: [], initializers: [], tensorOf: new Map(), pendingPads: new Map(), pendingAffine: new Map() };
  const consumers = new Map<string, Layer[]>();
  for (const layer of m.layers) for (const src of inboundNames(layer)) consumers.set(src, [...(consumers.get(src) ?? []), layer]);
  const [, h, w, c] = m.inputs[0].shape as number[];
  const outputLayer = m.outputLayers[0].name;
  let classes = 0;
  for (const layer of m.layers) {
    const cfg = config(layer);
    const inbound = inboundNames(layer);
    const kind = className(layer);
    switch (kind) {
      case 'InputLayer':
        state.tensorOf.set(layer.name, INPUT_NAME);
        break;
      case 'ZeroPadding2D': {
        const [[t, b], [l, r]] = cfg.padding as number[][];
        const src = m.getLayer(inbound[0]);
        const sourceIsRelu = className(src) === 'Activation' && config(src).activation === 'relu';
        state.pendingPads.set(layer.name, { source: state.tensorOf.get(inbound[0])!, pads: [t, l, b, r], sourceIsRelu });
        break;
      }
      case 'Conv2D':
        exportConv(state, layer, consumers);
        break;
      case 'BatchNormalization': {
        if (state.tensorOf.has(layer.name)) break; // folded into its convolution
        const source = m.getLayer(inbound[0]);
        if ((source.outputShape as number[]).length !== 2) throw new Error(`ONNX export: BatchNormalization ${layer.name} does not follow a convolution`);
        // On a feature vector (a head's BN): an affine map, folded into the Dense that consumes it.
        const [gamma, beta, mean, variance] = layer.getWeights().map(values);
        const epsilon = cfg.epsilon as number;
        const scale = gamma.map((g, i) => g / Math.sqrt(variance[i] + epsilon));
        const shift = beta.map((b, i) => b - mean[i] * scale[i]);
        state.pendingAffine.set(layer.name, { scale, shift });
        state.tensorOf.set(layer.name, state.tensorOf.get(inbound[0])!);
        break;
      }
      case 'Activation':
        exportActivation(state, layer.name, cfg.activation as string, state.tensorOf.get(inbound[0])!, layer.name);
        state.tensorOf.set(layer.name, layer.name);
        break;
      case 'MaxPooling2D': {
        // Zero padding equals MaxPool's −∞ padding only for non-negative inputs (after a ReLU).
        const { input, pads } = inputWithPads(state, inbound[0], (p) => p.sourceIsRelu);
        if (cfg.padding === 'same') throw new Error(`ONNX export: MaxPooling2D ${layer.name} with 'same' padding is not supported`);
        state.nodes.push(node('MaxPool', [input], [layer.name], layer.name, { kernel_shape: cfg.poolSize as number[], strides: cfg.strides as number[], pads }));
        state.tensorOf.set(layer.name, layer.name);
        break;
      }
      case 'Add':
        state.nodes.push(node('Add', inbound.map((n) => state.tensorOf.get(n)!), [layer.name], layer.name));
        state.tensorOf.set(layer.name, layer.name);
        break;
      case 'GlobalAveragePooling2D':
        state.nodes.push(node('GlobalAveragePool', [state.tensorOf.get(inbound[0])!], [`${layer.name}_nchw`], layer.name));
        state.nodes.push(node('Flatten', [`${layer.name}_nchw`], [layer.name], `${layer.name}_flatten`, { axis: 1 }));
        state.tensorOf.set(layer.name, layer.name);
        break;
      case 'GlobalMaxPooling2D':
        state.nodes.push(node('GlobalMaxPool', [state.tensorOf.get(inbound[0])!], [`${layer.name}_nchw`], layer.name));
        state.nodes.push(node('Flatten', [`${layer.name}_nchw`], [layer.name], `${layer.name}_flatten`, { axis: 1 }));
        state.tensorOf.set(layer.name, layer.name);
        break;
      case 'Flatten':
        // Keras flattens NHWC (h, w, c order): back to that order before flattening our NCHW map.
        state.nodes.push(node('Transpose', [state.tensorOf.get(inbound[0])!], [`${layer.name}_nhwc`], `${layer.name}_nhwc`, { perm: [0, 2, 3, 1] }));
        state.nodes.push(node('Flatten', [`${layer.name}_nhwc`], [layer.name], layer.name, { axis: 1 }));
        state.tensorOf.set(layer.name, layer.name);
        break;
      case 'Dropout': {
        state.tensorOf.set(layer.name, state.tensorOf.get(inbound[0])!);
        const affine = state.pendingAffine.get(inbound[0]);
        if (affine) state.pendingAffine.set(layer.name, affine);
        break;
      }
      case 'Dense': {
        const [kernelT, biasT] = layer.getWeights();
        const [inF, outF] = kernelT.shape as number[];
        const kernel = Float32Array.from(values(kernelT));
        const bias = biasT ? Float32Array.from(values(biasT)) : new Float32Array(outF);
        const affine = state.pendingAffine.get(inbound[0]);
        if (affine) {
          // W·(x·s + t) + b = (s ⊙ W)·x + (W·t + b); the sums in float64.
          const sums = Float64Array.from(bias);
          for (let i = 0; i < inF; i++) {
            for (let o = 0; o < outF; o++) {
              sums[o] += kernel[i * outF + o] * affine.shift[i];
              kernel[i * outF + o] *= affine.scale[i];
            }
          }
          bias.set(sums);
          state.pendingAffine.delete(inbound[0]);
        }
        state.initializers.push(tensor(`${layer.name}_W`, [inF, outF], kernel));
        state.initializers.push(tensor(`${layer.name}_B`, [outF], bias));
        const activation = cfg.activation as string;
        const isOutput = layer.name === outputLayer;
        const gemmOut = activation === 'linear' ? (isOutput ? LOGITS_NAME : layer.name) : `${layer.name}_logits`;
        state.nodes.push(node('Gemm', [state.tensorOf.get(inbound[0])!, `${layer.name}_W`, `${layer.name}_B`], [gemmOut], layer.name, { transB: 0 }));
        const out = isOutput ? (activation === 'softmax' ? OUTPUT_NAME : LOGITS_NAME) : layer.name;
        if (gemmOut !== out) exportActivation(state, `${layer.name}_${activation}`, activation, gemmOut, out);
        state.tensorOf.set(layer.name, out);
        if (isOutput) classes = outF;
        break;
      }
      default:
        throw new Error(`ONNX export: layer ${layer.name} of type ${kind} is not supported`);
    }
  }
  for (const name of state.pendingAffine.keys()) throw new Error(`ONNX export: BatchNormalization ${name} is followed by no Dense to fold it into`);
  const batch = dynamicBatch ? 'batch' : 1;
  let outputs;
  const classifierOutput = state.tensorOf.get(outputLayer);
  if (classifierOutput === OUTPUT_NAME || classifierOutput === LOGITS_NAME) {
    outputs = [valueInfo(classifierOutput, [batch, classes])];
  } else {
    // A feature extractor (e.g. the frozen prefix of a transfer-learning run): NCHW outputs named by tensor.
    outputs = m.outputs.map((t) => {
      const [, oh, ow, oc] = t.shape as number[];
      return valueInfo(state.tensorOf.get(t.sourceLayer.name)!, [batch, oc, oh, ow]);
    });
  }
  return model({
    name: m.name,
    node: state.nodes,
    initializer: state.initializers,
    input: [valueInfo(INPUT_NAME, [batch, c, h, w])],
    output: outputs,
  });
}
