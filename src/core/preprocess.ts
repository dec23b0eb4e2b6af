/** @module Decoded RGB(A) → normalised NCHW float32 tensor, in one pass, exactly as the manifest says. */
import type { DecodedImage, Orientation } from './image/types.js';
import { pilResize, type ResizeBox, type RgbSource } from './pil-resize.js';
import type { PreprocessSpec } from './preprocess-spec.js';

/** Resampling taps along one axis: output i reads `count[i]` source indices from `first[i]` with `weights`. */
interface AxisTaps {
  first: Int32Array;
  count: Int32Array;
  offset: Int32Array;
  weights: Float32Array;
}

/**
 * Taps for resizing the window [start, start+length) of an axis of `size` pixels to `n` pixels.
 * Shrinking averages the exact area each output pixel covers (no aliasing from big photos); enlarging
 * is bilinear with half-pixel centres (the TF2 / PIL convention).
 */
export function axisTaps(size: number, start: number, length: number, n: number): AxisTaps {
  const scale = length / n;
  const first = new Int32Array(n);
  const count = new Int32Array(n);
  const offset = new Int32Array(n);
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    offset[i] = weights.length;
    if (scale > 1) {
      const lo = start + i * scale;
      const hi = lo + scale;
      const a = Math.floor(lo);
      const b = Math.min(Math.ceil(hi), size);
      first[i] = a;
      count[i] = b - a;
      for (let s = a; s < b; s++) weights.push((Math.min(hi, s + 1) - Math.max(lo, s)) / scale);
    } else {
      const centre = Math.min(Math.max(start + (i + 0.5) * scale - 0.5, 0), size - 1);
      const a = Math.floor(centre);
      const f = centre - a;
      first[i] = a;
      if (f > 0 && a + 1 < size) {
        count[i] = 2;
        weights.push(1 - f, f);
      } else {
        count[i] = 1;
        weights.push(1);
      }
    }
  }
  return { first, count, offset, weights: Float32Array.from(weights) };
}

/** Where displayed pixel (x', y') lives in the stored image: index = origin + x'·dx + y'·dy (in pixels). */
export function orientationWalk(orientation: Orientation, width: number, height: number) {
  const w = width;
  const last = (height - 1) * w;
  const walks: Record<Orientation, [number, number, number]> = {
    1: [0, 1, w],
    2: [w - 1, -1, w],
    3: [last + w - 1, -1, -w],
    4: [last, 1, -w],
    5: [0, w, 1],
    6: [last, -w, 1],
    7: [last + w - 1, -w, -1],
    8: [w - 1, w, -1],
  };
  const [origin, dx, dy] = walks[orientation];
  const swapped = orientation >= 5;
  return { origin, dx, dy, width: swapped ? height : width, height: swapped ? width : height };
}

/** Python's round(): halves to even (torchvision's CenterCrop offset). */
const roundHalfEven = (v: number) => {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

/**
 * Where the spec's resize reads and what it keeps, for a displayed width×height image: the source box, the size
 * it is resized to, and the kept output window in that resized image (as Pillow's resize, then crop).
 */
export function resizeGeometry(spec: PreprocessSpec, width: number, height: number): ResizeBox {
  const full = { x0: 0, y0: 0, x1: width, y1: height };
  const kept = { left: 0, top: 0, width: spec.width, height: spec.height };
  if (spec.resize === 'stretch') return { resizedWidth: spec.width, resizedHeight: spec.height, source: full, ...kept };
  if (spec.resize === 'center-crop') {
    const fraction = spec.cropFraction ?? 0.875;
    const targetAspect = spec.width / spec.height;
    let w = width;
    let h = width / targetAspect;
    if (h > height) {
      h = height;
      w = height * targetAspect;
    }
    w *= fraction;
    h *= fraction;
    const x0 = (width - w) / 2;
    const y0 = (height - h) / 2;
    return { resizedWidth: spec.width, resizedHeight: spec.height, source: { x0, y0, x1: x0 + w, y1: y0 + h }, ...kept };
  }
  // shorter-side: torchvision's `int(size * long / short)` for the longer side, then a centred crop.
  const shorter = spec.resizeShorter!;
  const [resizedWidth, resizedHeight] = width <= height ? [shorter, Math.trunc((shorter * height) / width)] : [Math.trunc((shorter * width) / height), shorter];
  const offset = spec.cropRounding === 'floor' ? (margin: number) => Math.floor(margin / 2) : (margin: number) => roundHalfEven(margin / 2);
  return { resizedWidth, resizedHeight, source: full, ...kept, left: offset(resizedWidth - spec.width), top: offset(resizedHeight - spec.height) };
}

/** The source window the kept output reads, in displayed coordinates (what an area filter averages over). */
function cropWindow(spec: PreprocessSpec, width: number, height: number) {
  const g = resizeGeometry(spec, width, height);
  const sx = (g.source.x1 - g.source.x0) / g.resizedWidth;
  const sy = (g.source.y1 - g.source.y0) / g.resizedHeight;
  return { x: g.source.x0 + g.left * sx, y: g.source.y0 + g.top * sy, w: g.width * sx, h: g.height * sy };
}

/**
 * Whether a stored `width`×`height` image, shrunk by `factor` in each direction, still gives the spec's resize
 * at least one source pixel per output pixel in the window it reads: then decoding at that scale loses
 * nothing the model would see (the area filter averages those pixels anyway).
 */
export function scaleSuffices(spec: PreprocessSpec, width: number, height: number, orientation: Orientation, factor: number): boolean {
  const swapped = orientation >= 5;
  const window = cropWindow(spec, Math.floor((swapped ? height : width) / factor), Math.floor((swapped ? width : height) / factor));
  return window.w >= spec.width && window.h >= spec.height;
}

/**
 * Resize, orient, composite alpha and normalise `image` into a [1, 3, H, W] float32 tensor (planes in the
 * spec's colour order). One pass over the source; the only scratch memory is one output row.
 * Pass `out` to reuse a buffer (e.g. a slot of a batch).
 */
export function preprocessImage(image: DecodedImage, spec: PreprocessSpec, out?: Float32Array): Float32Array {
  const { width: outW, height: outH } = spec;
  const plane = outW * outH;
  const tensor = out ?? new Float32Array(3 * plane);
  if (tensor.length < 3 * plane) throw new RangeError(`output buffer holds ${tensor.length} floats, needs ${3 * plane}`);
  const walk = orientationWalk(image.orientation, image.width, image.height);
  if (spec.filter !== 'area') return normalise(pilResize(rgbSource(image, walk, spec.alphaBackground), resizeGeometry(spec, walk.width, walk.height), spec.filter), spec, tensor);
  const crop = cropWindow(spec, walk.width, walk.height);
  const tx = axisTaps(walk.width, crop.x, crop.w, outW);
  const ty = axisTaps(walk.height, crop.y, crop.h, outH);
  const src = image.data;
  const channels = image.channels;
  // No background: alpha is ignored (PIL's convert('RGB')), as compositing with α = 1 everywhere.
  const [bgR, bgG, bgB] = spec.alphaBackground ?? [0, 0, 0];
  const hasAlpha = channels === 4 && spec.alphaBackground !== null;
  // Plane k holds source channel order[k]; mean/std are listed in the same (model) order.
  const order = spec.colorOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const row = new Float32Array(outW * 3);
  for (let oy = 0; oy < outH; oy++) {
    row.fill(0);
    const yEnd = ty.offset[oy] + ty.count[oy];
    for (let k = ty.offset[oy], sy = ty.first[oy]; k < yEnd; k++, sy++) {
      const wy = ty.weights[k];
      const rowBase = walk.origin + sy * walk.dy;
      for (let ox = 0; ox < outW; ox++) {
        let r = 0;
        let g = 0;
        let b = 0;
        const xEnd = tx.offset[ox] + tx.count[ox];
        for (let j = tx.offset[ox], sx = tx.first[ox]; j < xEnd; j++, sx++) {
          const wx = tx.weights[j];
          const p = (rowBase + sx * walk.dx) * channels;
          const a = hasAlpha ? src[p + 3] : 255;
          if (a === 255) {
            r += wx * src[p];
            g += wx * src[p + 1];
            b += wx * src[p + 2];
          } else {
            const α = a / 255;
            r += wx * (α * src[p] + (1 - α) * bgR);
            g += wx * (α * src[p + 1] + (1 - α) * bgG);
            b += wx * (α * src[p + 2] + (1 - α) * bgB);
          }
        }
        row[ox * 3] += wy * r;
        row[ox * 3 + 1] += wy * g;
        row[ox * 3 + 2] += wy * b;
      }
    }
    for (let k = 0; k < 3; k++) {
      const c = order[k];
      const mean = spec.mean[k];
      const inv = 1 / spec.std[k];
      const base = k * plane + oy * outW;
      for (let ox = 0; ox < outW; ox++) tensor[base + ox] = (row[ox * 3 + c] - mean) * inv;
    }
  }
  return tensor;
}

/** The decoded image as 8-bit RGB in displayed order, alpha composited onto the background (rounded) or dropped. */
function rgbSource(image: DecodedImage, walk: ReturnType<typeof orientationWalk>, background: PreprocessSpec['alphaBackground']): RgbSource {
  const { data: src, channels } = image;
  const [bgR, bgG, bgB] = background ?? [0, 0, 0];
  return {
    width: walk.width,
    height: walk.height,
    read(x, y, out, at) {
      const p = (walk.origin + x * walk.dx + y * walk.dy) * channels;
      const a = channels === 4 && background !== null ? src[p + 3] : 255;
      if (a === 255) {
        out[at] = src[p];
        out[at + 1] = src[p + 1];
        out[at + 2] = src[p + 2];
      } else {
        const α = a / 255;
        out[at] = Math.round(α * src[p] + (1 - α) * bgR);
        out[at + 1] = Math.round(α * src[p + 1] + (1 - α) * bgG);
        out[at + 2] = Math.round(α * src[p + 2] + (1 - α) * bgB);
      }
    },
  };
}

/** 8-bit RGB (row-major) → the spec's normalised planes. */
function normalise(rgb: Uint8Array, spec: PreprocessSpec, tensor: Float32Array): Float32Array {
  const plane = spec.width * spec.height;
  const order = spec.colorOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let k = 0; k < 3; k++) {
    const c = order[k];
    const mean = spec.mean[k];
    const inv = 1 / spec.std[k];
    for (let i = 0; i < plane; i++) tensor[k * plane + i] = (rgb[i * 3 + c] - mean) * inv;
  }
  return tensor;
}
