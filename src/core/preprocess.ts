/** @module Decoded RGB(A) → normalised NCHW float32 tensor, in one pass, exactly as the manifest says. */
import type { DecodedImage, Orientation } from './image/types.js';
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

/** The source window the spec's resize rule reads, in displayed coordinates. */
function cropWindow(spec: PreprocessSpec, width: number, height: number) {
  if (spec.resize === 'stretch') return { x: 0, y: 0, w: width, h: height };
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
  return { x: (width - w) / 2, y: (height - h) / 2, w, h };
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
  const crop = cropWindow(spec, walk.width, walk.height);
  const tx = axisTaps(walk.width, crop.x, crop.w, outW);
  const ty = axisTaps(walk.height, crop.y, crop.h, outH);
  const src = image.data;
  const channels = image.channels;
  const [bgR, bgG, bgB] = spec.alphaBackground;
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
          const a = channels === 4 ? src[p + 3] : 255;
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
