/**
 * @module Pillow's `Image.resize` on 8-bit RGB, bit for bit: the filters the training recipes resize with
 * (torchvision's and timm's `Resize` on PIL images, Keras' `load_img`, Hugging Face's image processors all call
 * it). Pillow 9–11, `libImaging/Resample.c`: each output pixel's taps come from the filter stretched by the
 * scale (antialiasing), normalised, turned into 22-bit fixed point; a horizontal pass writes 8-bit rows, then a
 * vertical pass reads them. NEAREST is `libImaging/Geometry.c`'s affine scale: source index = ⌊a + (i + ½)·s⌋,
 * accumulated in double precision as Pillow does. Checked against Pillow's own output (pil-resize.test.ts).
 */

export type PilFilter = 'nearest' | 'bilinear' | 'bicubic';

/** Fixed-point taps along one axis: output i reads `count[i]` source pixels from `first[i]`, weights `kk[i·ksize …]`. */
export interface PilTaps {
  first: Int32Array;
  count: Int32Array;
  ksize: number;
  kk: Int32Array;
}

/** Pillow's PRECISION_BITS for 8-bit images: 32 − 8 − 2. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

const bilinear = (x: number) => {
  x = Math.abs(x);
  return x < 1 ? 1 - x : 0;
};
/** Keys' cubic with a = −0.5, as Pillow's BICUBIC. */
const bicubic = (x: number) => {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
};
const FILTERS = { bilinear: { fn: bilinear, support: 1 }, bicubic: { fn: bicubic, support: 2 } } as const;

/** C's (int) cast: truncation toward zero. */
const trunc = Math.trunc;

/**
 * `precompute_coeffs` + `normalize_coeffs_8bpc`: taps resizing the box [in0, in1) of an axis of `inSize`
 * pixels to `outSize` pixels.
 */
export function pilTaps(inSize: number, in0: number, in1: number, outSize: number, filter: 'bilinear' | 'bicubic'): PilTaps {
  const { fn, support: baseSupport } = FILTERS[filter];
  // Pillow takes the box as C floats: in1 − in0 is a float subtraction, then a double division.
  in0 = Math.fround(in0);
  in1 = Math.fround(in1);
  const scale = Math.fround(in1 - in0) / outSize;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(trunc(center - support + 0.5), 0);
    const xmax = Math.min(trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = fn((x + xmin - center + 0.5) * ss);
      ww += k[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      kk[xx * ksize + x] = w < 0 ? trunc(-0.5 + w * ONE) : trunc(0.5 + w * ONE);
    }
    first[xx] = xmin;
    count[xx] = Math.max(xmax, 0);
  }
  return { first, count, ksize, kk };
}

/** NEAREST: the source index of each output pixel for the box [in0, in1) (Geometry.c's ImagingScaleAffine). */
export function pilNearest(inSize: number, in0: number, in1: number, outSize: number): Int32Array {
  const a = (in1 - in0) / outSize;
  const index = new Int32Array(outSize);
  let xo = in0 + a * 0.5;
  for (let x = 0; x < outSize; x++) {
    index[x] = Math.min(Math.max(xo < 0 ? -1 : trunc(xo), 0), inSize - 1);
    xo += a;
  }
  return index;
}

/** `clip8`: a fixed-point sum back to 0..255. */
const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 * ONE ? 255 : v >> PRECISION_BITS);

/** An 8-bit RGB source read in displayed order: pixel (x, y) → its three channels. */
export interface RgbSource {
  width: number;
  height: number;
  /** Writes displayed pixel (x, y)'s R, G, B into `out` at `at`. */
  read(x: number, y: number, out: Uint8Array | Float32Array, at: number): void;
}

/** The box of the resized image that is kept: output pixels [left, left+width) × [top, top+height). */
export interface ResizeBox {
  /** The full resized size (what Pillow's resize makes before any crop). */
  resizedWidth: number;
  resizedHeight: number;
  /** The source box it is resized from (Pillow's `box`; the whole image unless a crop came first). */
  source: { x0: number; y0: number; x1: number; y1: number };
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Resizes `src` as Pillow does and keeps `box`'s crop: returns width×height×3 bytes (RGB, row-major), the
 * values Pillow's `img.resize(…).crop(…)` holds.
 */
export function pilResize(src: RgbSource, box: ResizeBox, filter: PilFilter): Uint8Array {
  const { width: outW, height: outH, left, top } = box;
  const out = new Uint8Array(outW * outH * 3);
  const { x0, y0, x1, y1 } = box.source;
  if (filter === 'nearest') {
    const xs = pilNearest(src.width, x0, x1, box.resizedWidth);
    const ys = pilNearest(src.height, y0, y1, box.resizedHeight);
    for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) src.read(xs[left + x]!, ys[top + y]!, out, (y * outW + x) * 3);
    return out;
  }
  const tx = pilTaps(src.width, x0, x1, box.resizedWidth, filter);
  const ty = pilTaps(src.height, y0, y1, box.resizedHeight, filter);
  // Rows the kept output rows read, and the horizontal pass over just those rows and the kept columns.
  const yFirst = ty.first[top]!;
  const yLast = Math.max(...Array.from({ length: outH }, (_, y) => ty.first[top + y]! + ty.count[top + y]!));
  const rows = yLast - yFirst;
  const temp = new Uint8Array(outW * rows * 3);
  const line = new Uint8Array(src.width * 3);
  for (let r = 0; r < rows; r++) {
    for (let x = 0; x < src.width; x++) src.read(x, yFirst + r, line, x * 3);
    for (let x = 0; x < outW; x++) {
      const xx = left + x;
      const base = xx * tx.ksize;
      let sr = HALF;
      let sg = HALF;
      let sb = HALF;
      for (let j = 0, p = tx.first[xx]! * 3; j < tx.count[xx]!; j++, p += 3) {
        const w = tx.kk[base + j]!;
        sr += line[p]! * w;
        sg += line[p + 1]! * w;
        sb += line[p + 2]! * w;
      }
      const o = (r * outW + x) * 3;
      temp[o] = clip8(sr);
      temp[o + 1] = clip8(sg);
      temp[o + 2] = clip8(sb);
    }
  }
  for (let y = 0; y < outH; y++) {
    const yy = top + y;
    const base = yy * ty.ksize;
    for (let x = 0; x < outW; x++) {
      let sr = HALF;
      let sg = HALF;
      let sb = HALF;
      for (let j = 0; j < ty.count[yy]!; j++) {
        const w = ty.kk[base + j]!;
        const p = ((ty.first[yy]! - yFirst + j) * outW + x) * 3;
        sr += temp[p]! * w;
        sg += temp[p + 1]! * w;
        sb += temp[p + 2]! * w;
      }
      const o = (y * outW + x) * 3;
      out[o] = clip8(sr);
      out[o + 1] = clip8(sg);
      out[o + 2] = clip8(sb);
    }
  }
  return out;
}
