/**
 * @module Whether a PNG's image data is all there. upng-js (through pako) decodes a zlib stream that stops early
 * without an error and leaves the missing rows black, so a file that lost its end (no IEND) is inflated once
 * here and its length compared with what IHDR implies: one filter byte plus the packed pixels of every row
 * (of every Adam7 pass when interlaced).
 */
import pako from 'pako';
import type { PngHeader } from './header.js';
import type { PngChunks } from './png-chunks.js';

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Bytes of the filtered image data IHDR describes: what the zlib stream must inflate to. */
export function filteredImageBytes(header: PngHeader): number {
  const bits = CHANNELS[header.colorType]! * header.bitDepth;
  const rows = (width: number, height: number) => (width > 0 && height > 0 ? height * (1 + Math.ceil((width * bits) / 8)) : 0);
  if (header.interlace === 0) return rows(header.width, header.height);
  return ADAM7.reduce((sum, [x0, y0, dx, dy]) => sum + rows(Math.ceil((header.width - x0) / dx), Math.ceil((header.height - y0) / dy)), 0);
}

/** The inflated length of the file's IDAT stream (pako stops at the end of what is there). */
export function inflatedImageBytes(bytes: Uint8Array, chunks: PngChunks): number {
  const inflator = new pako.Inflate();
  chunks.idat.forEach(([start, end], i) => inflator.push(bytes.subarray(start, end), i === chunks.idat.length - 1));
  if (inflator.err) return -1;
  return (inflator.result as Uint8Array).length;
}
