/**
 * @module The forward convolution for training on tfjs' wasm backend. Its Conv2D/FusedConv2D kernel caches an
 * XNNPACK operator per filter tensor, and creating one first transposes the filter with a scalar loop and
 * then packs it: ~25 ms for one 2 M-weight ResNet50 filter, paid for every filter on every training step
 * because each update makes new weight tensors (about a third of a step at 32 px). Where the filter is larger
 * than the activations, this computes the convolution as im2col · W, one MatMul whose packing of W (by
 * XNNPACK's own transposing packer) costs a third of that; other convolutions keep the original kernel.
 * The kernel only replaces how the forward values are computed: tfjs' gradients of conv2d are unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { backend_util, KernelBackend, KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { columnsAreInput, im2colInto, onlyLiveTap } from './im2col.js';

interface WasmLike extends KernelBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
}

/** Column-matrix route when the weights (kh·kw·cin·cout) outweigh the columns (rows · kh·kw·cin). */
export function prefersColumnForward(conv: backend_util.Conv2DInfo): boolean {
  const rows = conv.batchSize * conv.outHeight * conv.outWidth;
  return conv.outChannels >= rows;
}

const FUSABLE = new Set(['linear', 'relu']);

function columnConv(original: KernelFunc): KernelFunc {
  return function conv2dByColumns(args) {
    const { x, filter, bias, preluActivationWeights } = args.inputs as NamedTensorInfoMap;
    const attrs = args.attrs as unknown as ConvAttrs;
    const activation = attrs.activation ?? 'linear';
    const dilations = typeof attrs.dilations === 'number' ? [attrs.dilations, attrs.dilations] : (attrs.dilations ?? [1, 1]);
    if (attrs.dataFormat !== 'NHWC' || dilations[0] !== 1 || dilations[1] !== 1 || !FUSABLE.has(activation) || preluActivationWeights || x!.dtype !== 'float32') return original(args);
    const conv = tf.backend_util.computeConv2DInfo(x!.shape as [number, number, number, number], filter!.shape as [number, number, number, number], attrs.strides, 1, attrs.pad as 'same', attrs.dimRoundingMode, false, 'channelsLast');
    const tap = onlyLiveTap(conv);
    if (!tap && !prefersColumnForward(conv)) return original(args);
    const backend = args.backend as WasmLike;
    const rows = conv.batchSize * conv.outHeight * conv.outWidth;
    const depth = conv.filterHeight * conv.filterWidth * conv.inChannels;
    // A 1×1 stride-1 convolution's columns are the input itself; so are those of a 1×1 map's only live tap.
    const pointwise = tap !== null || columnsAreInput(conv);
    let columns: TensorInfo;
    if (pointwise) {
      backend.incRef(x!.dataId);
      columns = { dataId: x!.dataId, shape: [rows, conv.inChannels], dtype: 'float32' };
    } else {
      columns = backend.makeOutput([rows, depth], 'float32');
      // Views after the allocation: it may have grown (and so replaced) the heap.
      im2colInto(backend.typedArrayFromHeap(x!), conv, backend.typedArrayFromHeap(columns));
    }
    const wrap = (info: TensorInfo, shape: number[]) => {
      if (info !== columns) backend.incRef(info.dataId);
      return tf.engine().makeTensorFromTensorInfo({ ...info, shape }) as tf.Tensor2D;
    };
    const a = wrap(columns, columns.shape);
    const whole = wrap(filter!, [depth, conv.outChannels]);
    const b = tap ? tf.slice(whole, [(tap[0] * conv.filterWidth + tap[1]) * conv.inChannels, 0], [conv.inChannels, conv.outChannels]) : whole;
    const c = bias ? wrap(bias, [conv.outChannels]) : undefined;
    const product = tf.fused.matMul({ a, b, bias: c, activation: activation as 'linear' | 'relu' });
    const output: TensorInfo = { dataId: product.dataId, shape: [conv.batchSize, conv.outHeight, conv.outWidth, conv.outChannels], dtype: 'float32' };
    backend.incRef(product.dataId);
    tf.dispose([product, a, b, whole, ...(c ? [c] : [])]);
    return output;
  };
}

let registered = false;

/** Routes Conv2D and FusedConv2D on `backendName` through the column form where it is cheaper (once). */
export function registerColumnConvForward(backendName = 'wasm'): void {
  if (registered) return;
  for (const name of [tf.Conv2D, tf.FusedConv2D]) {
    const original = tf.getKernel(name, backendName);
    if (!original) continue;
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({ ...original, kernelFunc: columnConv(original.kernelFunc as KernelFunc) } as KernelConfig);
  }
  registered = true;
}
