/** @module decodeImage: bytes → RGB(A) pixels, refusing by the header what the memory budget cannot hold. */
import jpeg from 'jpeg-js';
import UPNG from 'upng-js';
import { ImageError, ImageErrorCode, isImageError } from './errors.js';
import { estimateDecodeBytes } from './footprint.js';
import { readImageHeader, type JpegHeader, type PngHeader } from './header.js';
import { verifyPngChunks } from './png-chunks.js';
import type { DecodedImage } from './types.js';

export interface DecodeLimits {
  /** Largest width×height accepted; checked against the header before decoding. */
  maxPixels: number;
  /** Largest memory the decode may take (estimated from the header); absent: no byte budget. */
  maxDecodeBytes?: number;
}

/**
 * 2.1 MP, and 46 MB to decode: beside the int8 ResNet50 session (70 MB of wasm heap without prepacking) and
 * the isolate's ~7 MB JS baseline that stays under 128 MB (a 1920×1080 4:2:0 JPEG takes ~44 MB in jpeg-js).
 */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxPixels: 2_100_000, maxDecodeBytes: 46 * 2 ** 20 };

/**
 * What jpeg-js's own accounting needs for the largest accepted JPEG: an Int32Array(64) per 8×8 block of every
 * component (4 B/px each, 12 B/px at 4:4:4), a line buffer per component (1 B/px each), the RGB output
 * (3 B/px) and its 8-bit component planes: ~20 B/px at 4:4:4 (measured: bench/decode-footprint.ts). Its
 * default (512 MB) is 4× the isolate; this is the budget for what MAX_IMAGE_PIXELS admits, not a default.
 */
export const jpegJsBudgetMB = (maxPixels: number) => Math.ceil((maxPixels * 22) / 2 ** 20) + 4;

/** SOF0 baseline, SOF1 extended sequential and SOF2 progressive, all 8-bit Huffman: what jpeg-js decodes right. */
const DECODABLE_SOF = new Set([0xc0, 0xc1, 0xc2]);

function decodeJpeg(bytes: Uint8Array, header: JpegHeader, limits: DecodeLimits): DecodedImage {
  if (!DECODABLE_SOF.has(header.sof) || header.precision !== 8) {
    // jpeg-js turns 12-bit JPEGs into wrong pixels without an error, so refuse them up front.
    throw new ImageError(
      ImageErrorCode.unsupportedVariant,
      `JPEG variant not supported (frame marker 0xff${header.sof.toString(16)}, ${header.precision}-bit)`,
    );
  }
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: limits.maxPixels / 1e6,
    maxMemoryUsageInMB: jpegJsBudgetMB(limits.maxPixels),
  });
  return { width: decoded.width, height: decoded.height, channels: 3, data: decoded.data, orientation: header.orientation };
}

function decodePng(bytes: Uint8Array, header: PngHeader): DecodedImage {
  verifyPngChunks(bytes);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const png = UPNG.decode(buffer);
  if (png.width !== header.width || png.height !== header.height) throw new ImageError(ImageErrorCode.corrupt, 'PNG: decoder and header disagree on the size');
  const rgba = new Uint8Array(UPNG.toRGBA8(png)[0]);
  if (rgba.length !== png.width * png.height * 4) throw new ImageError(ImageErrorCode.corrupt, 'PNG: image data is incomplete');
  return { width: png.width, height: png.height, channels: 4, data: rgba, orientation: 1 };
}

/**
 * Decodes a JPEG or PNG (format from magic bytes). Throws only `ImageError`: the codecs' own exceptions
 * (including their TypeErrors on malformed input) become `corrupt_image`.
 */
export function decodeImage(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodedImage {
  const header = readImageHeader(bytes);
  const pixels = header.width * header.height;
  if (pixels > limits.maxPixels) {
    throw new ImageError(ImageErrorCode.tooLarge, `image is ${header.width}×${header.height} (${pixels} pixels); the limit is ${limits.maxPixels}`);
  }
  const needed = estimateDecodeBytes(header);
  if (limits.maxDecodeBytes !== undefined && needed > limits.maxDecodeBytes) {
    const mb = (n: number) => (n / 2 ** 20).toFixed(0);
    throw new ImageError(ImageErrorCode.tooLarge, `decoding this ${header.width}×${header.height} image needs about ${mb(needed)} MB; the budget is ${mb(limits.maxDecodeBytes)} MB (send it smaller)`);
  }
  try {
    return header.format === 'jpeg' ? decodeJpeg(bytes, header, limits) : decodePng(bytes, header);
  } catch (e) {
    if (isImageError(e)) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new ImageError(ImageErrorCode.corrupt, `${header.format.toUpperCase()} could not be decoded: ${reason.slice(0, 200)}`);
  }
}
