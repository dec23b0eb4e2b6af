/**
 * @module Our WebGPU training kernels, each replaceable by tfjs' own so a run can measure them one at a time
 * (`npm run gpu-check`): the filter gradient (filter-gradient.ts), the input gradient on tfjs' tiled matmul
 * program instead of its naive one (a flag), batch normalisation's forward and backward (batch-norm.ts) and Adam (adam.ts, used
 * through `adamFor`). Imported only once `navigator.gpu` exists (tfjs-backend-webgpu registers itself on import).
 */
import * as tf from '@tensorflow/tfjs';
import { WebGpuAdamOptimizer } from './adam.js';
import { batchNormBackwardKernel, batchNormForwardKernel } from './batch-norm.js';
import { filterGradientKernel } from './filter-gradient.js';

/** Every kernel, in the order gpu-check adds them. */
export const WEBGPU_KERNELS = ['filter-gradient', 'batch-norm', 'adam', 'input-gradient'] as const;
export type WebGpuKernel = (typeof WEBGPU_KERNELS)[number];
/**
 * What a run uses unless told otherwise: all but tfjs' tiled input gradient, which on the one WebGPU device
 * measured so far (Mesa llvmpipe, bench/results/gpu-check-llvmpipe-224.json) took 2.5× its naive program's GPU
 * time. `npm run gpu-check` measures it on a GPU (its last row); `EDGE_RESNET_WEBGPU_KERNELS=all` turns it on.
 */
export const DEFAULT_WEBGPU_KERNELS: readonly WebGpuKernel[] = ['filter-gradient', 'batch-norm', 'adam'];

const stockFilterGradient = tf.getKernel('Conv2DBackpropFilter', 'webgpu');
let enabled = new Set<WebGpuKernel>();

function replace(config: tf.KernelConfig | undefined, name: string): void {
  if (tf.getKernel(name, 'webgpu')) tf.unregisterKernel(name, 'webgpu');
  if (config) tf.registerKernel(config);
}

/** Turns on exactly `kernels`; the rest run as tfjs ships them. */
export function useWebGpuKernels(kernels: Iterable<WebGpuKernel>): void {
  enabled = new Set(kernels);
  replace(enabled.has('filter-gradient') ? filterGradientKernel : stockFilterGradient, 'Conv2DBackpropFilter');
  // tfjs' tiled matmul program for the input gradient (NHWC only, which the model uses); true selects its naive one.
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', !enabled.has('input-gradient'));
  for (const kernel of [batchNormForwardKernel, batchNormBackwardKernel]) replace(enabled.has('batch-norm') ? kernel : undefined, kernel.kernelName);
}

/** The Adam a training loop on WebGPU uses: ours when enabled, else tf.train.adam. */
export const adamFor = (learningRate: number): tf.Optimizer => (enabled.has('adam') ? new WebGpuAdamOptimizer(learningRate) : tf.train.adam(learningRate));
