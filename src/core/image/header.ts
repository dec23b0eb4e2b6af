/** @module Format sniffing and header parsing: dimensions are known before any pixel is allocated. */
import { ImageError, ImageErrorCode } from './errors.js';
import { readExifOrientation } from './exif.js';
import type { ImageInfo, Orientation } from './types.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function sniffFormat(bytes: Uint8Array): ImageInfo['format'] | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

export interface JpegHeader extends ImageInfo {
  format: 'jpeg';
  orientation: Orientation;
  precision: number;
  /** Start-of-frame marker (0xc0 baseline, 0xc1 extended, 0xc2 progressive, …). */
  sof: number;
  /** Sampling factors per component (4:2:0 colour is [2×2, 1×1, 1×1]). */
  components: Array<{ h: number; v: number }>;
}

export interface PngHeader extends ImageInfo {
  format: 'png';
  bitDepth: number;
  colorType: number;
  interlace: number;
}

const corrupt = (message: string) => new ImageError(ImageErrorCode.corrupt, message);

/** Walks JPEG segments up to the start of frame; collects the EXIF orientation on the way. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader {
  let orientation: Orientation = 1;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) throw corrupt(`JPEG: expected a marker at byte ${pos}, found 0x${bytes[pos].toString(16)}`);
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) throw corrupt('JPEG: no frame header before the scan data');
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    if (length < 2) throw corrupt(`JPEG: segment 0xff${marker.toString(16)} has a bad length ${length}`);
    if (pos + 2 + length > bytes.length) throw new ImageError(ImageErrorCode.truncated, `JPEG: the file ends inside segment 0xff${marker.toString(16)}, before its frame header`);
    const payload = bytes.subarray(pos + 4, pos + 2 + length);
    if (marker === 0xe1 && orientation === 1) orientation = readExifOrientation(payload);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (payload.length < 6) throw corrupt('JPEG: frame header too short');
      const precision = payload[0];
      const height = (payload[1] << 8) | payload[2];
      const width = (payload[3] << 8) | payload[4];
      if (width === 0 || height === 0) throw corrupt(`JPEG: frame declares ${width}×${height} pixels`);
      const count = payload[5]!;
      if (count < 1 || count > 4 || payload.length < 6 + count * 3) throw corrupt(`JPEG: frame header lists ${count} components`);
      const components = Array.from({ length: count }, (_, i) => ({ h: payload[7 + i * 3]! >> 4, v: payload[7 + i * 3]! & 15 }));
      if (components.some((c) => c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4)) throw corrupt('JPEG: sampling factors outside 1–4');
      return { format: 'jpeg', width, height, orientation, precision, sof: marker, components };
    }
    pos += 2 + length;
  }
  throw new ImageError(ImageErrorCode.truncated, 'JPEG: the file ends before its frame header');
}

/** Reads and validates IHDR (the first chunk, by the spec). */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  if (bytes.length < 33) throw corrupt(`PNG: ${bytes.length} bytes is too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (view.getUint32(8) !== 13 || type !== 'IHDR') throw corrupt(`PNG: first chunk is ${JSON.stringify(type)}, not a 13-byte IHDR`);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const [bitDepth, colorType, compression, filter, interlace] = bytes.subarray(24, 29);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) throw corrupt(`PNG: IHDR declares ${width}×${height} pixels`);
  const allowedDepths: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
  const depths = allowedDepths[colorType];
  if (!depths) throw corrupt(`PNG: colour type ${colorType} does not exist`);
  if (!depths.includes(bitDepth)) throw corrupt(`PNG: bit depth ${bitDepth} is not allowed with colour type ${colorType}`);
  if (compression !== 0 || filter !== 0 || interlace > 1) throw corrupt(`PNG: IHDR method fields ${compression}/${filter}/${interlace} are invalid`);
  return { format: 'png', width, height, bitDepth, colorType, interlace };
}

/** Sniffs the format and reads the header; throws a typed error for anything else. */
export function readImageHeader(bytes: Uint8Array): JpegHeader | PngHeader {
  const format = sniffFormat(bytes);
  if (format === 'jpeg') return readJpegHeader(bytes);
  if (format === 'png') return readPngHeader(bytes);
  throw new ImageError(ImageErrorCode.unsupportedFormat, 'not a JPEG or PNG image (by its first bytes)');
}
