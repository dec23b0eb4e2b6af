/**
 * @module Batch normalisation in training mode as two kernels, forward and backward, on the backends that register
 * them (WebGPU: webgpu/batch-norm.ts, 5 and 4 dispatches instead of ~12 and ~12 element-wise ops and matmuls).
 * Where none is registered, tf/batch-norm.ts composes tf ops as before (the wasm path's exact arithmetic).
 * Activations are [m, C] (every axis but the channels flattened); statistics are [C].
 */
import * as tf from '@tensorflow/tfjs';

export const BATCH_NORM_FORWARD = 'EdgeResnetBatchNormForward';
export const BATCH_NORM_BACKWARD = 'EdgeResnetBatchNormBackward';

export const hasBatchNormKernels = (): boolean => tf.getKernel(BATCH_NORM_FORWARD, tf.getBackend()) !== undefined && tf.getKernel(BATCH_NORM_BACKWARD, tf.getBackend()) !== undefined;

/** [y, mean, variance]: y = γ·(x − mean)/√(variance + ε) + β with the batch's mean and biased variance. */
export const batchNormForward = (x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number) =>
  tf.engine().runKernel(BATCH_NORM_FORWARD, { x, gamma, beta }, { epsilon }) as unknown as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];

/** [dx, dγ, dβ] for dy, from the forward pass's x, mean and variance. */
export const batchNormBackward = (dy: tf.Tensor2D, x: tf.Tensor2D, mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor, epsilon: number) =>
  tf.engine().runKernel(BATCH_NORM_BACKWARD, { dy, x, mean, variance, gamma }, { epsilon }) as unknown as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
