/**
 * @module Registers our conv2d gradient kernels on tfjs' wasm backend: Conv2DBackpropFilter (missing there)
 * and Conv2DBackpropInput (present, but a scalar loop slower than the rest of a step).
 */
import * as tf from '@tensorflow/tfjs';
import type { backend_util, KernelBackend, KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { conv2dFilterGradient } from './conv2d-backprop-filter.js';
import { conv2dInputGradient } from './conv2d-backprop-input.js';

interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

type Compute = (a: tf.Tensor4D, b: tf.Tensor4D, attrs: ConvGradAttrs) => tf.Tensor4D;

/**
 * A kernel computed with tf ops. Ops run inside a kernel are not taped (tfjs' kernelDepth). Reference
 * counting: the input wrappers take their own backend reference (makeTensorFromTensorInfo does not), and the
 * result's buffer gets one more before its wrapper is disposed, so the engine's output owns it (zero copy,
 * as tfjs' own Reshape kernel does).
 */
function opKernel(kernelName: string, backendName: string, names: [string, string], compute: Compute): KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const a = attrs as unknown as ConvGradAttrs;
      if (a.dataFormat !== 'NHWC') throw new Error(`${kernelName}: only NHWC is implemented, got ${a.dataFormat}`);
      const b = backend as KernelBackend;
      const wrap = (info: TensorInfo) => {
        b.incRef(info.dataId);
        return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor4D;
      };
      const map = inputs as NamedTensorInfoMap;
      const first = wrap(map[names[0]]!);
      const second = wrap(map[names[1]]!);
      const result = compute(first, second, a);
      const output: TensorInfo = { dataId: result.dataId, shape: result.shape, dtype: 'float32' };
      b.incRef(result.dataId);
      tf.dispose([result, first, second]);
      return output;
    },
  };
}

export function convGradientKernels(backendName: string): KernelConfig[] {
  return [
    opKernel(tf.Conv2DBackpropFilter, backendName, ['x', 'dy'], (x, dy, a) => conv2dFilterGradient(x, dy, a.filterShape!, a.strides, a.pad, a.dimRoundingMode)),
    opKernel(tf.Conv2DBackpropInput, backendName, ['dy', 'filter'], (dy, w, a) => conv2dInputGradient(dy, w, a.inputShape!, a.strides, a.pad, a.dimRoundingMode)),
  ];
}

let registered = false;

/** Registers (or replaces) both kernels on `backendName`; idempotent. */
export function registerConvGradientKernels(backendName = 'wasm'): void {
  if (registered) return;
  for (const config of convGradientKernels(backendName)) {
    if (tf.getKernel(config.kernelName, backendName)) tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel(config);
  }
  registered = true;
}
