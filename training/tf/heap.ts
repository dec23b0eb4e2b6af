/**
 * @module A float32 tensor's values without a copy where the backend allows it: tfjs' wasm backend keeps them
 * on its heap, and a view of that range saves a weight-sized copy (ResNet50: 94 MB) per read. Other backends
 * fall back to dataSync(). The view is only valid until the next tfjs call that may grow the heap.
 */
import * as tf from '@tensorflow/tfjs';

interface HeapBackend {
  typedArrayFromHeap(info: { shape: number[]; dtype: string; dataId: object }): Float32Array;
}

const hasHeap = (backend: unknown): backend is HeapBackend => typeof (backend as Partial<HeapBackend>).typedArrayFromHeap === 'function';

export function float32View(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new TypeError(`float32View: ${t.dtype} tensor`);
  const backend = tf.backend();
  return hasHeap(backend) ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

let scratch = new Float32Array(0);

/**
 * A reused buffer for values about to become a new tensor on the wasm backend (which copies them onto its
 * heap): a fresh 9 MB Float32Array per call cost ~25 ms in V8's external-memory GCs next to a 2 GB wasm heap.
 * Other backends keep the array they are given, so they get a fresh one. Valid until the next call.
 */
export function scratchFloat32(length: number): Float32Array {
  if (tf.getBackend() !== 'wasm') return new Float32Array(length);
  if (scratch.length < length) scratch = new Float32Array(length);
  return scratch.subarray(0, length);
}
