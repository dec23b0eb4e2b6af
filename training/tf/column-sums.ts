/**
 * @module Σ over the rows of an [m, C] matrix (optionally of its product with a second one, not formed), as a
 * kernel of our own on the backends that register one (WebGPU: webgpu/column-sums.ts). Batch normalisation's
 * statistics and gradients are these sums; where no backend kernel exists, tf/batch-norm.ts keeps its matmuls
 * with a row of ones (the wasm backend's fastest way, and the default model's exact arithmetic).
 */
import * as tf from '@tensorflow/tfjs';

/** The kernel's name; inputs `a` (and `b`), both [m, C]; output [C]. */
export const COLUMN_SUMS = 'EdgeResnetColumnSums';

/** Whether the current backend has the kernel. */
export const hasColumnSums = (): boolean => tf.getKernel(COLUMN_SUMS, tf.getBackend()) !== undefined;

export const columnSums = (a: tf.Tensor2D, b?: tf.Tensor2D): tf.Tensor1D => tf.engine().runKernel(COLUMN_SUMS, b ? { a, b } : { a }, {}) as tf.Tensor1D;
