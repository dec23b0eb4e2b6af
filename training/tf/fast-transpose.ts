/**
 * @module Transposes for tfjs' wasm backend at memory speed. Its Transpose kernel is a scalar loop (~9 ns per
 * element: 21 ms for one 3×3×512×512 filter), and its MatMul with a transpose flag is slower still; a
 * ResNet50 training step transposes every weight and many activations, so this was a sixth of a step at
 * 32 px. Every permutation the network's gradients use is a batch of 2-D transposes
 * (perm = [batch dims…, the trailing group, the leading group]), done here by 32×32 tiles on the heap views.
 * Other permutations and dtypes go to the original kernel. Also here: Identity by reference (below).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

interface WasmLike extends KernelBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

const TILE = 32;

/** dst[b][j][i] = src[b][i][j] for `batches` matrices of rows × cols. */
export function transposeBatchInto(src: Float32Array, dst: Float32Array, batches: number, rows: number, cols: number): void {
  const size = rows * cols;
  for (let b = 0; b < batches; b++) {
    const base = b * size;
    for (let i0 = 0; i0 < rows; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, rows);
      for (let j0 = 0; j0 < cols; j0 += TILE) {
        const j1 = Math.min(j0 + TILE, cols);
        for (let i = i0; i < i1; i++) {
          const from = base + i * cols;
          for (let j = j0; j < j1; j++) dst[base + j * rows + i] = src[from + j]!;
        }
      }
    }
  }
}

/** [batch, rows, cols] when `perm` swaps two adjacent groups of axes after untouched leading axes, else null. */
export function asBatchedTranspose(shape: readonly number[], perm: readonly number[]): [number, number, number] | null {
  const rank = shape.length;
  let lead = 0;
  while (lead < rank && perm[lead] === lead) lead++;
  if (lead === rank) return null; // identity
  const split = perm[lead]!; // the trailing group [split, rank) moves to the front of the tail
  for (let k = 0; k < rank - split; k++) if (perm[lead + k] !== split + k) return null;
  for (let k = 0; k < split - lead; k++) if (perm[lead + rank - split + k] !== lead + k) return null;
  const product = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
  return [product(0, lead), product(lead, split), product(split, rank)];
}

function transposeInfo(backend: WasmLike, x: TensorInfo, batch: number, rows: number, cols: number, outShape: number[]): TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  // Views after the allocation: it may have grown (and so replaced) the heap.
  transposeBatchInto(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), batch, rows, cols);
  return out;
}

function transposeKernel(original: KernelFunc): KernelFunc {
  return function fastTranspose(args) {
    const x = (args.inputs as NamedTensorInfoMap).x!;
    const perm = (args.attrs as unknown as { perm: number[] }).perm;
    const plan = x.dtype === 'float32' || x.dtype === 'int32' ? asBatchedTranspose(x.shape, perm) : null;
    if (!plan) return original(args);
    return transposeInfo(args.backend as WasmLike, x, ...plan, perm.map((p) => x.shape[p]!));
  };
}

/**
 * MatMul with a transpose flag = explicit fast transpose + the kernel's fast no-transpose path. The kernel
 * packs its right operand for XNNPACK on every call with a new one: a·bᵀ with a weight matrix as b (a Dense
 * layer's input gradient, dy·Wᵀ) would transpose and pack all the weights each training step, so when b is
 * the larger operand it is computed as (b·aᵀ)ᵀ instead, which transposes and packs only activations.
 */
function batchMatMulKernel(original: KernelFunc): KernelFunc {
  return function fastTransposedMatMul(args) {
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original(args);
    const backend = args.backend as WasmLike;
    const { a, b } = args.inputs as NamedTensorInfoMap;
    const flip = (t: TensorInfo) => {
      const rank = t.shape.length;
      const rows = t.shape[rank - 2]!;
      const cols = t.shape[rank - 1]!;
      return transposeInfo(backend, t, t.shape.slice(0, -2).reduce((p, d) => p * d, 1), rows, cols, [...t.shape.slice(0, -2), cols, rows]);
    };
    const temporaries: TensorInfo[] = [];
    const keep = (t: TensorInfo) => (temporaries.push(t), t);
    try {
      const single = a!.shape.slice(0, -2).every((d) => d === 1) && b!.shape.length === a!.shape.length && b!.shape.slice(0, -2).every((d) => d === 1);
      if (!transposeA && transposeB && single && b!.dtype === 'float32' && sizeOf(b!) > sizeOf(a!)) {
        const swapped = keep(original({ ...args, inputs: { a: b!, b: keep(flip(a!)) }, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as TensorInfo);
        return flip(swapped);
      }
      const a2 = transposeA ? keep(flip(a!)) : a!;
      const b2 = transposeB ? keep(flip(b!)) : b!;
      return original({ ...args, inputs: { a: a2, b: b2 }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
}

const sizeOf = (t: TensorInfo) => t.shape.reduce((p, d) => p * d, 1);

/**
 * Identity without a copy, as tfjs' cpu backend does it (a new reference to the same data). The wasm backend
 * copies, and autodiff clones every tensor it saves for the backward pass through Identity: ~5 % of a
 * ResNet50 training step. Safe because no kernel writes into its inputs.
 */
function sharedIdentityKernel(original: KernelFunc): KernelFunc {
  return function sharedIdentity(args) {
    const x = (args.inputs as NamedTensorInfoMap).x!;
    if (x.dtype === 'string') return original(args);
    (args.backend as WasmLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

let registered = false;

/** Replaces Transpose, BatchMatMul and Identity on `backendName` (once), keeping the originals as fallbacks. */
export function registerFastTransposes(backendName = 'wasm'): void {
  if (registered) return;
  const replace = (name: string, wrap: (original: KernelFunc) => KernelFunc) => {
    const original = tf.getKernel(name, backendName);
    if (!original) return;
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({ ...original, kernelFunc: wrap(original.kernelFunc as KernelFunc) } as KernelConfig);
  };
  replace(tf.Transpose, transposeKernel);
  replace(tf.BatchMatMul, batchMatMulKernel);
  replace(tf.Identity, sharedIdentityKernel);
  registered = true;
}
