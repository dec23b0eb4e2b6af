/**
 * @module Conv2DBackpropFilter on WebGPU as a tiled, split-K matrix product over implicit im2col tiles.
 *   dW[k, o] = Σ_m A[m, k] · dy[m, o],  m = (n, oy, ox),  k = (i, j, c),  A[m, k] = xpad[n, oy·sh + i, ox·sw + j, c]
 * tfjs-backend-webgpu 4.22 runs one thread per weight looping over batch × output rows × columns (no tiling, no
 * shared memory): its cost grows with the batch and a 224 px ResNet50 filter gradient keeps only as many threads
 * busy as the layer has weights. Here a workgroup of 16 × 16 threads computes a 64 × 64 tile of dW from 16-row
 * slabs of A and dy staged in workgroup memory, each thread 4 × 4 outputs; A is gathered from x on the fly (no
 * im2col buffer). The m axis is split into S chunks, one per workgroup layer (z), so a layer with few weight
 * tiles still fills the GPU; the S partial products are summed by a second dispatch (programs.ts).
 */
import { backend_util, type KernelConfig, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs';
import type { Uniform, WebGPUBackend, WebGPUProgram } from './programs.js';
import { sumLeadingAxis } from './programs.js';

/** Output tile edge (weights along k and along o) and the m slab staged per iteration. */
const TILE = 64;
const SLAB = 16;
/** Split the m axis until about this many workgroups run (a few per SM on a large GPU)... */
const TARGET_WORKGROUPS = 1024;
/** ...but never into chunks shorter than this (each workgroup then loops at least 16 slabs). */
const MIN_CHUNK = 256;

export interface SplitK {
  /** Number of m chunks (partial products). */
  splits: number;
  /** Rows of m per chunk, a multiple of SLAB. */
  chunk: number;
}

/** How to split m rows for a K × O weight gradient. */
export function splitK(m: number, k: number, o: number): SplitK {
  const tiles = Math.ceil(k / TILE) * Math.ceil(o / TILE);
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(m / MIN_CHUNK)));
  const chunk = Math.ceil(Math.ceil(m / wanted) / SLAB) * SLAB;
  return { splits: Math.ceil(m / chunk), chunk };
}

function filterGradientProgram(k: number, o: number, { splits }: SplitK): WebGPUProgram {
  return {
    outputShape: [splits, k, o],
    variableNames: ['x', 'dy'],
    uniforms: 'pads : vec2<i32>, strides : vec2<i32>, filterDims : vec2<i32>, rowsM : i32, depthK : i32, chunk : i32,',
    workgroupSize: [16, 16, 1],
    dispatchLayout: { x: [2], y: [1], z: [0] },
    dispatch: [Math.ceil(o / TILE), Math.ceil(k / TILE), splits],
    shaderKey: 'edgeResnetConv2DFilterGradientSplitK',
    getUserCode: () => `
      var<workgroup> tileA : array<array<f32, ${TILE}>, ${SLAB}>;
      var<workgroup> tileB : array<array<f32, ${TILE}>, ${SLAB}>;

      // A[m, k]: the input pixel tap k of output position m saw (0 in the padding and past the chunk).
      fn readA(m : i32, kk : i32, mEnd : i32) -> f32 {
        if (m >= mEnd || kk >= uniforms.depthK) { return 0.0; }
        let cin = uniforms.xShape[3];
        let c = kk % cin;
        let tap = kk / cin;
        let j = tap % uniforms.filterDims.y;
        let i = tap / uniforms.filterDims.y;
        let ox = m % uniforms.dyShape[2];
        let rest = m / uniforms.dyShape[2];
        let oy = rest % uniforms.dyShape[1];
        let n = rest / uniforms.dyShape[1];
        let iy = oy * uniforms.strides.x + i - uniforms.pads.x;
        let ix = ox * uniforms.strides.y + j - uniforms.pads.y;
        if (iy < 0 || ix < 0 || iy >= uniforms.xShape[1] || ix >= uniforms.xShape[2]) { return 0.0; }
        return x[((n * uniforms.xShape[1] + iy) * uniforms.xShape[2] + ix) * cin + c];
      }

      fn readB(m : i32, oo : i32, mEnd : i32) -> f32 {
        let cout = uniforms.dyShape[3];
        if (m >= mEnd || oo >= cout) { return 0.0; }
        return dy[m * cout + oo];
      }

      fn main() {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let flat = ty * 16 + tx;
        let kBase = i32(workgroupId.y) * ${TILE};
        let oBase = i32(workgroupId.x) * ${TILE};
        let split = i32(workgroupId.z);
        let mStart = split * uniforms.chunk;
        let mEnd = min(mStart + uniforms.chunk, uniforms.rowsM);
        var acc : array<array<f32, 4>, 4>;
        // The slab count comes from uniforms only, so every thread of the workgroup reaches every barrier.
        let slabs = uniforms.chunk / ${SLAB};
        for (var s = 0; s < slabs; s++) {
          let m0 = mStart + s * ${SLAB};
          for (var e = 0; e < ${(SLAB * TILE) / 256}; e++) {
            let idx = flat + e * 256;
            let row = idx / ${TILE};
            let col = idx % ${TILE};
            tileA[row][col] = readA(m0 + row, kBase + col, mEnd);
            tileB[row][col] = readB(m0 + row, oBase + col, mEnd);
          }
          workgroupBarrier();
          for (var r = 0; r < ${SLAB}; r++) {
            var a : array<f32, 4>;
            var b : array<f32, 4>;
            for (var q = 0; q < 4; q++) {
              a[q] = tileA[r][ty + q * 16];
              b[q] = tileB[r][tx + q * 16];
            }
            for (var p = 0; p < 4; p++) {
              for (var q = 0; q < 4; q++) {
                acc[p][q] = fma(a[p], b[q], acc[p][q]);
              }
            }
          }
          workgroupBarrier();
        }
        let cout = uniforms.dyShape[3];
        for (var p = 0; p < 4; p++) {
          let kk = kBase + ty + p * 16;
          for (var q = 0; q < 4; q++) {
            let oo = oBase + tx + q * 16;
            if (kk < uniforms.depthK && oo < cout) {
              result[(split * uniforms.depthK + kk) * cout + oo] = acc[p][q];
            }
          }
        }
      }`,
  };
}

interface FilterGradientAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** The weight gradient of an NHWC conv2d (dilation 1) on the WebGPU backend. */
export function conv2dFilterGradientWebGpu(backend: WebGPUBackend, x: TensorInfo, dy: TensorInfo, attrs: FilterGradientAttrs): TensorInfo {
  if (attrs.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter: only NHWC is implemented, got ${attrs.dataFormat}`);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const [kh, kw, cin, cout] = attrs.filterShape;
  const m = info.batchSize * info.outHeight * info.outWidth;
  const k = kh * kw * cin;
  const split = splitK(m, k, cout);
  const uniforms: Uniform[] = [
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [kh, kw] },
    { type: 'int32', data: [m] },
    { type: 'int32', data: [k] },
    { type: 'int32', data: [split.chunk] },
  ];
  const partial = backend.runWebGPUProgram(filterGradientProgram(k, cout, split), [x, dy], 'float32', uniforms);
  return sumLeadingAxis(backend, partial, [kh, kw, cin, cout]);
}

export const filterGradientKernel: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as NamedTensorInfoMap;
    return conv2dFilterGradientWebGpu(backend as unknown as WebGPUBackend, x!, dy!, attrs as unknown as FilterGradientAttrs);
  },
};
