/**
 * @module What our WebGPU programs share: tfjs-backend-webgpu's program shape (`WebGPUProgram`: variables bound
 * as `array<f32>` by name, the output as `result`, shapes and our own fields in `uniforms`) and a flat one-thread-
 * per-element layout. Programs read every size from uniforms, so one compiled pipeline serves every shape.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export type { WebGPUBackend, WebGPUProgram };

export type Uniform = { type: 'int32' | 'float32' | 'uint32'; data: number[] };

/** The fields every flat program sets: 256 threads a workgroup, one output element each (`main(index)`). */
export function flatLayout(outputShape: number[]): Pick<WebGPUProgram, 'outputShape' | 'dispatchLayout' | 'dispatch' | 'workgroupSize' | 'size'> {
  const dispatchLayout = webgpu_util.flatDispatchLayout(outputShape);
  const workgroupSize: [number, number, number] = [256, 1, 1];
  return { outputShape, dispatchLayout, dispatch: webgpu_util.computeDispatch(dispatchLayout, outputShape, workgroupSize), workgroupSize, size: true };
}

/**
 * [S, W] → [width]: scale · Σ_r partial[r, offset + i], one thread per output element walking the S rows (coalesced:
 * neighbouring threads read neighbouring columns). The second stage of every split reduction here.
 */
export function sumRowsProgram(width: number): WebGPUProgram {
  return {
    ...flatLayout([width]),
    variableNames: ['partial'],
    uniforms: 'rows : i32, stride : i32, offset : i32, scale : f32,',
    shaderKey: 'edgeResnetSumRows',
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var total = 0.0;
          for (var r = 0; r < uniforms.rows; r++) {
            total += partial[r * uniforms.stride + uniforms.offset + index];
          }
          result[index] = total * uniforms.scale;
        }
      }`,
  };
}

/** Columns [offset, offset + width) of `partial` ([S, W]) summed over S and scaled; `partial` stays the caller's. */
export function sumRows(backend: WebGPUBackend, partial: TensorInfo, offset: number, width: number, scale = 1): TensorInfo {
  const [rows, stride] = partial.shape as [number, number];
  const uniforms: Uniform[] = [{ type: 'int32', data: [rows] }, { type: 'int32', data: [stride] }, { type: 'int32', data: [offset] }, { type: 'float32', data: [scale] }];
  return backend.runWebGPUProgram(sumRowsProgram(width), [partial], 'float32', uniforms);
}

/** Sums `partial` ([S, ...]) over S into a tensor of `shape` (a view of `partial` itself when S is 1), consuming `partial`. */
export function sumLeadingAxis(backend: WebGPUBackend, partial: TensorInfo, shape: number[]): TensorInfo {
  const rows = partial.shape[0]!;
  if (rows === 1) return { dataId: partial.dataId, shape, dtype: 'float32' };
  const columns = partial.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = sumRows(backend, { ...partial, shape: [rows, columns] }, 0, columns);
  backend.disposeData(partial.dataId);
  // A reshape as tfjs' own Reshape kernel does it: the same buffer under the caller's shape.
  return { dataId: out.dataId, shape, dtype: 'float32' };
}
