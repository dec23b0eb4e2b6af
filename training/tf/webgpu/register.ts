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

export const WEBGPU_KERNELS = ['filter-gradient', 'input-gradient', 'batch-norm', 'adam'] as const;
export type WebGpuKernel = (typeof WEBGPU_KERNELS)[number];

const stockFilterGradient = tf.getKernel('Conv2DBackpropFilter', 'webgpu');
let enabled = new Set<WebGpuKernel>();

function replace(config: tf.KernelConfig | undefined, name: string): void {
  if (tf.getKernel(name, 'webgpu')) tf.unregisterKernel(name, 'webgpu');
  if (config) tf.registerKernel(config);
}

/** Turns on exactly `kernels` (all by default); the rest run as tfjs ships them. */
export function useWebGpuKernels(kernels: Iterable<WebGpuKernel> = WEBGPU_KERNELS): void {
  enabled = new Set(kernels);
  replace(enabled.has('filter-gradient') ? filterGradientKernel : stockFilterGradient, 'Conv2DBackpropFilter');
  // tfjs' tiled matmul program for the input gradient (NHWC only, which the model uses); true selects its naive one.
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', !enabled.has('input-gradient'));
  for (const kernel of [batchNormForwardKernel, batchNormBackwardKernel]) replace(enabled.has('batch-norm') ? kernel : undefined, kernel.kernelName);
}

/** The Adam a training loop on WebGPU uses: ours when enabled, else tf.train.adam. */
export const adamFor = (learningRate: number): tf.Optimizer => (enabled.has('adam') ? new WebGpuAdamOptimizer(learningRate) : tf.train.adam(learningRate));
