/**
 * @module The Conv2DBackpropFilter kernel tfjs' wasm backend lacks (so it cannot train conv nets as shipped):
 * an im2col of the input and one MatMul.
 *   dW[i, j, c, o] = Σ_{n,y,x} xpad[n, y·sh + i, x·sw + j, c] · dy[n, y, x, o]
 */
import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import { float32View, scratchFloat32 } from './heap.js';
import { columnsAreInput, im2colInto, onlyLiveTap } from './im2col.js';

/** The weight gradient of an NHWC conv2d (dilation 1), by explicit im2col + MatMul. */
export function conv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: backend_util.PadInfo | 'same' | 'valid' | number | backend_util.ExplicitPadding,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad as 'same', dimRoundingMode, false, 'channelsLast');
    const [kh, kw, cin, cout] = filterShape;
    const m = info.batchSize * info.outHeight * info.outWidth;
    const depth = kh * kw * cin;
    const tap = onlyLiveTap(info);
    if (tap) {
      // Only one tap ever saw the input: its gradient is xᵀ · dy, every other tap's is zero.
      const live = tf.matMul(tf.transpose(tf.reshape(x, [m, cin])), tf.reshape(dy, [m, cout]));
      return tf.pad(tf.reshape(live, [1, 1, cin, cout]), [[tap[0], kh - 1 - tap[0]], [tap[1], kw - 1 - tap[1]], [0, 0], [0, 0]]) as tf.Tensor4D;
    }
    let columns: tf.Tensor2D;
    if (columnsAreInput(info)) columns = tf.reshape(x, [m, depth]);
    else {
      const values = scratchFloat32(m * depth);
      im2colInto(float32View(x), info, values);
      columns = tf.tensor2d(values, [m, depth]);
    }
    // An explicit transpose: the wasm MatMul with transposeA is ~10× slower (FIELD-NOTES).
    const dw = tf.matMul(tf.transpose(columns), tf.reshape(dy, [m, cout])); // [kh·kw·cin, cout]
    return tf.reshape(dw, [kh, kw, cin, cout]) as tf.Tensor4D;
  });
}
