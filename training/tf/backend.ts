/**
 * @module The one place the pipeline sets up TensorFlow.js: gradients, our missing wasm kernels, the backend.
 * `cpu` here means tfjs' wasm backend (XNNPACK, SIMD) with our conv gradient kernels; `gpu` is WebGPU via
 * Dawn when a hardware adapter exists.
 */
// The union package registers every gradient and the cpu backend; its ESM sub-packages cannot be imported
// piecemeal under Node (directory imports).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerConvGradientKernels } from './conv-gradient-kernels.js';

export type TfBackendName = 'wasm' | 'cpu';

/** Selects a tfjs backend (registering the wasm gradient kernels first) and returns its name. */
export async function useBackend(name: TfBackendName = 'wasm'): Promise<string> {
  if (name === 'wasm') registerConvGradientKernels('wasm');
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} could not be initialised`);
  await tf.ready();
  return tf.getBackend();
}

export { tf };
