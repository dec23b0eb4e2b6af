/**
 * @module im2col for NHWC convolutions, written straight from the input's values: row (b, oy, ox) of the column
 * matrix holds the kh·kw·cin input values under that output's window, zeros where the window leaves the
 * padded input. On tfjs' wasm backend this replaces a pad, kh·kw strided slices and a concat (each a kernel
 * call with its own output buffer) by one pass.
 */
import type { backend_util } from '@tensorflow/tfjs';

/** Writes the [outRows, kh·kw·cin] column matrix of `x` (NHWC values) for `conv` into `out`. */
export function im2colInto(x: Float32Array, conv: backend_util.Conv2DInfo, out: Float32Array): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = conv;
  const { top, left } = conv.padInfo;
  const depth = kh * kw * cin;
  // A few channels (the RGB stem) are cheaper copied one by one than through subarray().set().
  const short = cin < 16;
  let row = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, row++) {
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i - top;
          for (let j = 0; j < kw; j++) {
            const xx = ox * sw + j - left;
            const at = row * depth + (i * kw + j) * cin;
            if (y < 0 || y >= h || xx < 0 || xx >= w) out.fill(0, at, at + cin);
            else {
              const from = ((b * h + y) * w + xx) * cin;
              if (short) for (let c = 0; c < cin; c++) out[at + c] = x[from + c]!;
              else out.set(x.subarray(from, from + cin), at);
            }
          }
        }
      }
    }
  }
}

/**
 * The one filter tap (i, j) that ever sees the input when input and output are both 1×1 (a k×k 'same'
 * convolution at the end of a network run at low resolution, like ResNet50's conv5 at 32 px): every other tap
 * only multiplies padding, so the convolution is a MatMul with that tap's [cin, cout] slice, and the
 * other taps' weight gradients are zero. Null for any other geometry (and for 1×1 filters: nothing to skip).
 */
export function onlyLiveTap(conv: backend_util.Conv2DInfo): [number, number] | null {
  if (conv.inHeight !== 1 || conv.inWidth !== 1 || conv.outHeight !== 1 || conv.outWidth !== 1) return null;
  if (conv.filterHeight === 1 && conv.filterWidth === 1) return null;
  const { top, left } = conv.padInfo;
  return top >= 0 && left >= 0 && top < conv.filterHeight && left < conv.filterWidth ? [top, left] : null;
}

/** A 1×1, stride-1, unpadded convolution: its column matrix is the input itself, [rows, cin], with no copy. */
export const columnsAreInput = (conv: backend_util.Conv2DInfo): boolean =>
  conv.filterHeight === 1 && conv.filterWidth === 1 && conv.strideHeight === 1 && conv.strideWidth === 1 && conv.padInfo.top === 0 && conv.padInfo.left === 0;
