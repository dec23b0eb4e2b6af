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
