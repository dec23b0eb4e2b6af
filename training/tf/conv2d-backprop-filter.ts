/**
 * @module The Conv2DBackpropFilter kernel tfjs' wasm backend lacks (so it cannot train conv nets as shipped),
 * built from ops it has: strided slices of the padded input (an im2col) and one MatMul.
 *   dW[i, j, c, o] = Σ_{n,y,x} xpad[n, y·sh + i, x·sw + j, c] · dy[n, y, x, o]
 */
import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';

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
    const { top, bottom, left, right } = info.padInfo;
    const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = info;
    const n = x.shape[0];
    const m = n * ho * wo;
    // Padding may be negative on the far side when the window does not reach the edge: slice handles that.
    const xp = top || bottom > 0 || left || right > 0 ? tf.pad(x, [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]]) : x;
    const columns: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const needsStride = sh > 1 || sw > 1;
        const end = [n, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, cin];
        const patch = needsStride ? tf.stridedSlice(xp, [0, i, j, 0], end, [1, sh, sw, 1]) : tf.slice(xp, [0, i, j, 0], [n, ho, wo, cin]);
        columns.push(tf.reshape(patch, [m, cin]));
      }
    }
    const im2col = columns.length === 1 ? columns[0] : tf.concat(columns, 1); // [m, kh·kw·cin]
    // An explicit transpose: the wasm MatMul with transposeA is ~10× slower (FIELD-NOTES).
    const dw = tf.matMul(tf.transpose(im2col), tf.reshape(dy, [m, cout])); // [kh·kw·cin, cout]
    return tf.reshape(dw, [kh, kw, cin, cout]) as tf.Tensor4D;
  });
}
