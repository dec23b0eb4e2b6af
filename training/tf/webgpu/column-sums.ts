/**
 * @module Column sums of an [m, C] matrix on WebGPU (Σ_r a[r, c], or Σ_r a[r, c]·b[r, c] without forming the
 * product): the reductions of batch normalisation's statistics and gradients (tf/batch-norm.ts), where m is every
 * pixel of the batch (200,704 rows at 56 × 56 × 64 images) and C at most 2,048. tfjs would run them as a [1, m] ×
 * [m, C] matmul: one 32-column tile per workgroup, so ≤ 64 workgroups each walking all m rows. Here the rows are
 * split into S chunks, one thread per (chunk, column) (neighbouring threads read neighbouring columns), and the
 * S × C partial sums are added by a second dispatch.
 */
import type { KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { COLUMN_SUMS } from '../column-sums.js';
import { flatLayout, sumLeadingAxis, type WebGPUBackend, type WebGPUProgram } from './programs.js';

/** About this many threads in the first stage (a large GPU's resident thread count, within a factor of 2)... */
const TARGET_THREADS = 131_072;
/** ...with chunks of at least this many rows. */
const MIN_ROWS = 32;

export function columnSplit(rows: number, columns: number): { splits: number; chunk: number } {
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_THREADS / columns), Math.floor(rows / MIN_ROWS)));
  const chunk = Math.ceil(rows / wanted);
  return { splits: Math.ceil(rows / chunk), chunk };
}

function columnSumsProgram(splits: number, columns: number, product: boolean): WebGPUProgram {
  return {
    ...flatLayout([splits, columns]),
    variableNames: product ? ['a', 'b'] : ['a'],
    uniforms: 'rows : i32, columns : i32, chunk : i32,',
    shaderKey: `edgeResnetColumnSums_${product}`,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let column = index % uniforms.columns;
          let first = (index / uniforms.columns) * uniforms.chunk;
          let last = min(first + uniforms.chunk, uniforms.rows);
          var total = 0.0;
          for (var r = first; r < last; r++) {
            let at = r * uniforms.columns + column;
            total += ${product ? 'a[at] * b[at]' : 'a[at]'};
          }
          result[index] = total;
        }
      }`,
  };
}

/** [m, C] (and optionally a second [m, C] to multiply by) → [C]. */
export function columnSumsWebGpu(backend: WebGPUBackend, a: TensorInfo, b?: TensorInfo): TensorInfo {
  const [rows, columns] = a.shape as [number, number];
  const { splits, chunk } = columnSplit(rows, columns);
  const uniforms = [{ type: 'int32' as const, data: [rows] }, { type: 'int32' as const, data: [columns] }, { type: 'int32' as const, data: [chunk] }];
  const partial = backend.runWebGPUProgram(columnSumsProgram(splits, columns, b !== undefined), b ? [a, b] : [a], 'float32', uniforms);
  return sumLeadingAxis(backend, partial, [columns]);
}

export const columnSumsKernel: KernelConfig = {
  kernelName: COLUMN_SUMS,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend }) => {
    const { a, b } = inputs as NamedTensorInfoMap;
    return columnSumsWebGpu(backend as unknown as WebGPUBackend, a!, b);
  },
};
