/**
 * @module What decoding an image costs in memory, from its header alone, so the request path can refuse what
 * the isolate cannot hold before allocating anything. Coefficients are measured (bench/decode-footprint.ts:
 * V8 heap + ArrayBuffer growth across a decode) on jpeg-js 0.4.4 and upng-js 2.1.0.
 */
import type { JpegHeader, PngHeader } from './header.js';

/** jpeg-js: ~12.2 B/px fixed (RGB output, objects) + ~5.9 B/px per full-resolution component plane (an Int32Array(64) per block). */
const JPEG_FIXED = 12.5;
const JPEG_PER_PLANE = 6;

/** Bytes per pixel of a PNG's raw (inflated) data. */
function pngBytesPerPixel(h: PngHeader): number {
  const channels: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  return ((channels[h.colorType] ?? 4) * h.bitDepth) / 8;
}

export function estimateDecodeBytes(header: JpegHeader | PngHeader): number {
  const pixels = header.width * header.height;
  if (header.format === 'jpeg') {
    const hMax = Math.max(...header.components.map((c) => c.h));
    const vMax = Math.max(...header.components.map((c) => c.v));
    const planes = header.components.reduce((sum, c) => sum + (c.h * c.v) / (hMax * vMax), 0);
    return Math.ceil(pixels * (JPEG_FIXED + JPEG_PER_PLANE * planes));
  }
  // upng-js: the inflated data, its unfiltered copy, and the RGBA8 output (measured 15 B/px for RGB8).
  return Math.ceil(pixels * (3 * pngBytesPerPixel(header) + 6));
}

/**
 * The 1/8-scale DCT-domain JPEG decode (jpeg-dc.ts): one Int32 DC value per block of every component, a
 * float plane per component and the RGB output at ⌈W/8⌉×⌈H/8⌉, plus the Huffman tables: under 1 B/px.
 */
export function estimateEighthScaleBytes(header: JpegHeader): number {
  const hMax = Math.max(...header.components.map((c) => c.h));
  const vMax = Math.max(...header.components.map((c) => c.v));
  const mcus = Math.ceil(header.width / (8 * hMax)) * Math.ceil(header.height / (8 * vMax));
  const blocks = header.components.reduce((sum, c) => sum + mcus * c.h * c.v, 0);
  const scaled = Math.ceil(header.width / 8) * Math.ceil(header.height / 8);
  return blocks * 4 + scaled * (3 + 4 * header.components.length) + 64 * 1024;
}
