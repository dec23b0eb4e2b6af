/**
 * @module A Conv2DBackpropInput kernel for tfjs' wasm backend. Its own one is a scalar loop that costs more than
 * the rest of a training step; this one runs the input gradient as a forward XNNPACK convolution:
 *   dx = correlate(zero-dilate(dy, stride), flip(W)ᵀ), padded to give the input's size.
 */
import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import { transposeBatchInto } from './fast-transpose.js';
import { float32View, scratchFloat32 } from './heap.js';
import { onlyLiveTap } from './im2col.js';

/** Inserts stride−1 zeros between the rows and columns of an NHWC tensor. */
export function zeroDilate(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, h, w, c] = dy.shape;
  let y: tf.Tensor4D = dy;
  if (sw > 1) {
    y = tf.reshape(tf.pad(tf.reshape(y, [n * h, w, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]), [n, h, w * sw, c]);
    y = tf.slice(y, [0, 0, 0, 0], [n, h, (w - 1) * sw + 1, c]);
  }
  if (sh > 1) {
    const wd = y.shape[2];
    y = tf.reshape(tf.pad(tf.reshape(y, [n, h, 1, wd * c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]), [n, h * sh, wd, c]);
    y = tf.slice(y, [0, 0, 0, 0], [n, (h - 1) * sh + 1, wd, c]);
  }
  return y;
}

/** Pads (or, for negative amounts, crops) one spatial axis of an NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, axis: 1 | 2, before: number, after: number): tf.Tensor4D {
  let y = x;
  if (before < 0 || after < 0) {
    const begin = [0, 0, 0, 0];
    const size = [...y.shape];
    begin[axis] = Math.max(-before, 0);
    size[axis] -= Math.max(-before, 0) + Math.max(-after, 0);
    y = tf.slice(y, begin, size);
  }
  if (before > 0 || after > 0) {
    const paddings: Array<[number, number]> = [[0, 0], [0, 0], [0, 0], [0, 0]];
    paddings[axis] = [Math.max(before, 0), Math.max(after, 0)];
    y = tf.pad(y, paddings);
  }
  return y;
}

/**
 * flip(W)ᵀ[i, j, o, c] = W[kh−1−i, kw−1−j, c, o]: each tap's [cin, cout] matrix transposed into the mirrored
 * tap, by tiles on the heap view (wasm's Reverse and Transpose kernels are scalar loops slower than the
 * convolution itself).
 */
export function flipTransposeFilter(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, cin, cout] = filter.shape;
  const taps = kh * kw;
  const size = cin * cout;
  const w = float32View(filter);
  const out = scratchFloat32(w.length);
  for (let t = 0; t < taps; t++) transposeBatchInto(w.subarray(t * size, (t + 1) * size), out.subarray((taps - 1 - t) * size, (taps - t) * size), 1, cin, cout);
  return tf.tensor4d(out, [kh, kw, cout, cin]);
}

/**
 * Column gradient dcol[m, taps·cin] = dy · Wᵀ, computed as (W · dyᵀ)ᵀ so that only activations are transposed:
 * deep in ResNet50 at low resolution m (= N·H·W) is tiny and the filters are millions of values.
 */
function columnGradient(dy: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor2D {
  const [kh, kw, cin, cout] = filter.shape;
  const m = dy.size / cout;
  const dyT = tf.transpose(tf.reshape(dy, [m, cout]));
  return tf.transpose(tf.matMul(tf.reshape(filter, [kh * kw * cin, cout]), dyT));
}

/** Input-gradient strategy: 'filter' transposes the filter and convolves; 'activation' goes through columns (col2im). */
export type InputGradientMode = 'auto' | 'filter' | 'activation';

/** The cheaper strategy by values moved: filter-sized work versus activation-sized work. */
export function preferredInputGradient(dyShape: readonly number[], filterShape: readonly number[], inputShape: readonly number[]): 'filter' | 'activation' {
  const [kh, kw, cin, cout] = filterShape as [number, number, number, number];
  const m = dyShape[0]! * dyShape[1]! * dyShape[2]!;
  const taps = kh * kw;
  const filterCost = taps * cin * cout;
  const activationCost = m * cout + m * taps * cin + taps * inputShape[0]! * inputShape[1]! * inputShape[2]! * cin;
  return activationCost < filterCost ? 'activation' : 'filter';
}

/** The input gradient of an NHWC conv2d (dilation 1): a stride-1 forward convolution, or col2im of dy · Wᵀ. */
export function conv2dInputGradient(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: number | [number, number],
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
  mode: InputGradientMode = 'auto',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = backend_util.computeConv2DInfo(inputShape, filter.shape, strides, 1, pad as 'same', dimRoundingMode, false, 'channelsLast');
    const [kh, kw, cin] = filter.shape;
    const [n, h, w] = inputShape;
    const { strideHeight: sh, strideWidth: sw } = info;
    const { top: padTop, left: padLeft } = info.padInfo;
    const tap = mode === 'auto' ? onlyLiveTap(info) : null;
    if (tap) {
      // dx = dy · W[tap]ᵀ, as (W[tap] · dyᵀ)ᵀ so that only activations are transposed.
      const [, , , cout] = filter.shape;
      const live = tf.reshape(tf.slice(filter, [tap[0], tap[1], 0, 0], [1, 1, cin, cout]), [cin, cout]);
      return tf.reshape(tf.transpose(tf.matMul(live, tf.transpose(tf.reshape(dy, [n, cout])))), inputShape);
    }
    if ((mode === 'auto' ? preferredInputGradient(dy.shape, filter.shape, inputShape) : mode) === 'activation') {
      // dx[y·s + i − pad] += dcol[y][tap (i, j)]: each tap's slice, zero-dilated by the stride, shifted into place.
      const columns = columnGradient(dy, filter);
      const [, ho, wo] = dy.shape;
      let sum: tf.Tensor4D | null = null;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const tap = tf.reshape(tf.slice(columns, [0, (i * kw + j) * cin], [n * ho * wo, cin]), [n, ho, wo, cin]) as tf.Tensor4D;
          let placed = zeroDilate(tap, sh, sw);
          placed = padOrCrop(placed, 1, i - padTop, h - (i - padTop) - placed.shape[1]);
          placed = padOrCrop(placed, 2, j - padLeft, w - (j - padLeft) - placed.shape[2]);
          sum = sum ? tf.add(sum, placed) : placed;
        }
      }
      return sum!;
    }
    let y = zeroDilate(dy, sh, sw);
    // dx[p] reads dilated dy from p + pad − (k − 1) to p + pad: pad the front by k − 1 − pad, the back to fit.
    const top = kh - 1 - padTop;
    const left = kw - 1 - padLeft;
    y = padOrCrop(y, 1, top, h + kh - 1 - top - y.shape[1]);
    y = padOrCrop(y, 2, left, w + kw - 1 - left - y.shape[2]);
    return tf.conv2d(y, flipTransposeFilter(filter), 1, 'valid');
  });
}
