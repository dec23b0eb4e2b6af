/**
 * @module Batch normalisation's training-mode forward and backward on WebGPU (tf/batch-norm-kernels.ts). The
 * reductions over m (every pixel of the batch: 200,704 rows at 56 × 56 × 64 images; C at most 2,048) are split:
 * one thread per (row chunk, column), neighbouring threads on neighbouring columns, then a second dispatch sums
 * the chunks (tfjs would run a [1, m] × [m, C] matmul: one 32-column tile per workgroup, ≤ 64 workgroups each
 * walking all m rows). The element-wise parts are one pass each. Forward: mean, variance (Σ (x − mean)², two-pass
 * as tf.moments), y = 5 dispatches. Backward: Σ dy and Σ dy·x̂ in one pass, their two sums, dx = 4.
 */
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { BATCH_NORM_BACKWARD, BATCH_NORM_FORWARD } from '../batch-norm-kernels.js';
import { flatLayout, sumRows, type Uniform, type WebGPUBackend, type WebGPUProgram } from './programs.js';

/** About this many threads in a reduction's first stage (a large GPU's resident thread count, within a factor of 2)... */
const TARGET_THREADS = 131_072;
/** ...with chunks of at least this many rows. */
const MIN_ROWS = 32;

export function rowSplit(rows: number, columns: number): { splits: number; chunk: number } {
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_THREADS / columns), Math.floor(rows / MIN_ROWS)));
  const chunk = Math.ceil(rows / wanted);
  return { splits: Math.ceil(rows / chunk), chunk };
}

type Reduction = 'sum' | 'centred-squares' | 'gradients';

const normed = (value: string, column: string) => `(${value} - mean[${column}]) * inverseSqrt(variance[${column}] + uniforms.epsilon)`;

/**
 * Partial column sums over chunks of rows: Σ x; Σ (x − mean)²; or, over 2C output columns, Σ dy then Σ dy·x̂.
 * Output [S, W] with W = C (2C for the gradients).
 */
function reductionProgram(splits: number, columns: number, reduction: Reduction): WebGPUProgram {
  const width = reduction === 'gradients' ? 2 * columns : columns;
  const term = {
    sum: 'x[at]',
    'centred-squares': '(x[at] - mean[column]) * (x[at] - mean[column])',
    gradients: `select(dy[at], dy[at] * ${normed('x[at]', 'column')}, second)`,
  }[reduction];
  return {
    ...flatLayout([splits, width]),
    variableNames: { sum: ['x'], 'centred-squares': ['x', 'mean'], gradients: ['dy', 'x', 'mean', 'variance'] }[reduction],
    uniforms: 'rows : i32, columns : i32, chunk : i32, epsilon : f32,',
    shaderKey: `edgeResnetBatchNormReduce_${reduction}`,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let slot = index % ${reduction === 'gradients' ? '(2 * uniforms.columns)' : 'uniforms.columns'};
          let second = slot >= uniforms.columns;
          let column = select(slot, slot - uniforms.columns, second);
          let first = (index / ${reduction === 'gradients' ? '(2 * uniforms.columns)' : 'uniforms.columns'}) * uniforms.chunk;
          let last = min(first + uniforms.chunk, uniforms.rows);
          var total = 0.0;
          for (var r = first; r < last; r++) {
            let at = r * uniforms.columns + column;
            total += ${term};
          }
          result[index] = total;
        }
      }`,
  };
}

function reduce(backend: WebGPUBackend, reduction: Reduction, inputs: TensorInfo[], rows: number, columns: number, epsilon: number): TensorInfo {
  const { splits, chunk } = rowSplit(rows, columns);
  const uniforms: Uniform[] = [{ type: 'int32', data: [rows] }, { type: 'int32', data: [columns] }, { type: 'int32', data: [chunk] }, { type: 'float32', data: [epsilon] }];
  return backend.runWebGPUProgram(reductionProgram(splits, columns, reduction), inputs, 'float32', uniforms);
}

function elementwiseProgram(shape: number[], pass: 'forward' | 'backward'): WebGPUProgram {
  const value =
    pass === 'forward'
      ? `gamma[column] * ${normed('x[index]', 'column')} + beta[column]`
      : `gamma[column] * inverseSqrt(variance[column] + uniforms.epsilon) * (dy[index] - dBeta[column] * uniforms.inverseRows - ${normed('x[index]', 'column')} * dGamma[column] * uniforms.inverseRows)`;
  return {
    ...flatLayout(shape),
    variableNames: pass === 'forward' ? ['x', 'mean', 'variance', 'gamma', 'beta'] : ['dy', 'x', 'mean', 'variance', 'gamma', 'dBeta', 'dGamma'],
    uniforms: 'columns : i32, epsilon : f32, inverseRows : f32,',
    shaderKey: `edgeResnetBatchNorm_${pass}`,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let column = index % uniforms.columns;
          result[index] = ${value};
        }
      }`,
  };
}

function elementwise(backend: WebGPUBackend, pass: 'forward' | 'backward', inputs: TensorInfo[], shape: number[], epsilon: number): TensorInfo {
  const [rows, columns] = shape as [number, number];
  const uniforms: Uniform[] = [{ type: 'int32', data: [columns] }, { type: 'float32', data: [epsilon] }, { type: 'float32', data: [1 / rows] }];
  return backend.runWebGPUProgram(elementwiseProgram(shape, pass), inputs, 'float32', uniforms);
}

export const batchNormForwardKernel: KernelConfig = {
  kernelName: BATCH_NORM_FORWARD,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as WebGPUBackend;
    const { x, gamma, beta } = inputs as NamedTensorInfoMap;
    const { epsilon } = attrs as NamedAttrMap as { epsilon: number };
    const [rows, columns] = x!.shape as [number, number];
    const stage = (partial: TensorInfo) => {
      const out = sumRows(backend, partial, 0, columns, 1 / rows);
      backend.disposeData(partial.dataId);
      return out;
    };
    const mean = stage(reduce(backend, 'sum', [x!], rows, columns, epsilon));
    const variance = stage(reduce(backend, 'centred-squares', [x!, mean], rows, columns, epsilon));
    const y = elementwise(backend, 'forward', [x!, mean, variance, gamma!, beta!], x!.shape, epsilon);
    return [y, mean, variance];
  },
};

export const batchNormBackwardKernel: KernelConfig = {
  kernelName: BATCH_NORM_BACKWARD,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as WebGPUBackend;
    const { dy, x, mean, variance, gamma } = inputs as NamedTensorInfoMap;
    const { epsilon } = attrs as NamedAttrMap as { epsilon: number };
    const [rows, columns] = x!.shape as [number, number];
    const partial = reduce(backend, 'gradients', [dy!, x!, mean!, variance!], rows, columns, epsilon);
    const dBeta = sumRows(backend, partial, 0, columns);
    const dGamma = sumRows(backend, partial, columns, columns);
    backend.disposeData(partial.dataId);
    const dx = elementwise(backend, 'backward', [dy!, x!, mean!, variance!, gamma!, dBeta, dGamma], x!.shape, epsilon);
    return [dx, dGamma, dBeta];
  },
};
