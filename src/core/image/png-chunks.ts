/**
 * @module PNG chunk structure, checked before upng-js sees the file: every chunk whole, IHDR first, at least
 * one IDAT, and the CRC right on every critical chunk. upng-js checks none of this (it decodes files with bad
 * CRCs), and a CRC mismatch is the format's own signal that the bytes are damaged. As libpng does by
 * default, a bad CRC on an ancillary chunk (lowercase first letter: metadata) is ignored, and bytes after
 * IEND, or an IEND cut short or missing, are tolerated once the image data is complete.
 */
import { ImageError, ImageErrorCode } from './errors.js';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as PNG uses it) of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const corrupt = (message: string) => new ImageError(ImageErrorCode.corrupt, `PNG: ${message}`);
const truncated = (message: string) => new ImageError(ImageErrorCode.truncated, `PNG: ${message}`);
const chunkName = (bytes: Uint8Array, at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);

/** IEND: length 0, type, CRC-32 of the type. */
const IEND = Uint8Array.of(0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82);

export interface PngChunks {
  /** The file has its IEND, whole (one cut short is treated as missing). */
  iend: boolean;
  /** Offset just past the last whole chunk before IEND (or the end of the file). */
  end: number;
  /** [start, end) of each IDAT chunk's data, in order: the zlib stream, in pieces. */
  idat: Array<[number, number]>;
  /** Only with `allowCut`: the file stops inside this IDAT chunk, whose data runs to the end of the file. */
  cutIdat?: boolean;
}

/**
 * Walks the chunks after the signature; throws `corrupt_image` on the first structural fault and
 * `truncated_image` when the file stops inside a chunk, or, with `allowCut` (a partial decode), only when it
 * stops before any image data: the chunks read so far, and an IDAT cut short, are then what the file holds.
 */
export function verifyPngChunks(bytes: Uint8Array, { allowCut = false } = {}): PngChunks {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  const idat: Array<[number, number]> = [];
  /** The file stops inside the chunk at `at`: what it holds so far (allowCut, once there is image data), or refused. */
  const cutAt = (at: number, name: string | number): PngChunks => {
    if (allowCut && idat.length > 0) return { iend: false, end: at, idat, cutIdat: name === 'IDAT' };
    throw truncated(`the file ends inside chunk ${typeof name === 'string' ? JSON.stringify(name) : name}`);
  };
  for (let index = 0; ; index++) {
    if (at === bytes.length) {
      // Ends on a chunk boundary without IEND: decoded only if the image data proves complete (decode.ts).
      if (idat.length === 0) throw truncated('the file ends before its image data (no IDAT chunk)');
      return { iend: false, end: at, idat };
    }
    // IEND, whole or cut short (what is left of the file is the start of one).
    if (idat.length > 0 && bytes.length - at < 12 && bytes.subarray(at).every((b, i) => b === IEND[i])) return { iend: false, end: at, idat };
    if (at + 8 <= bytes.length && idat.length > 0 && chunkName(bytes, at + 4) === 'IEND') return { iend: at + 12 <= bytes.length, end: at, idat };
    if (at + 12 > bytes.length) {
      const name = at + 8 <= bytes.length ? chunkName(bytes, at + 4) : index;
      if (name === 'IDAT' && at + 8 < bytes.length) idat.push([at + 8, bytes.length]);
      return cutAt(at, name);
    }
    const length = view.getUint32(at);
    const name = chunkName(bytes, at + 4);
    if (length > 0x7fffffff) throw corrupt(`chunk ${JSON.stringify(name)} declares ${length} bytes`);
    if (!/^[A-Za-z]{4}$/.test(name)) throw corrupt(`chunk ${index} has an invalid type ${JSON.stringify(name)}`);
    if (index === 0 && name !== 'IHDR') throw corrupt(`first chunk is ${JSON.stringify(name)}, not IHDR`);
    const end = at + 8 + length;
    if (end + 4 > bytes.length) {
      // The CRC of a chunk cut short cannot be checked: with allowCut, its data is what the file holds.
      if (name === 'IDAT') idat.push([at + 8, Math.min(end, bytes.length)]);
      return cutAt(at, name);
    }
    const critical = name.charCodeAt(0) < 0x61; // uppercase first letter
    if (critical && crc32(bytes, at + 4, end) !== view.getUint32(end)) throw corrupt(`chunk ${JSON.stringify(name)} fails its CRC check (the file is damaged)`);
    if (name === 'IEND') throw corrupt('no IDAT chunk (no image data)');
    if (name === 'IDAT') idat.push([at + 8, end]);
    at = end + 4;
  }
}

/**
 * The file's whole chunks followed by IEND, for decoders (upng-js) that read past the end of a file without one;
 * an IDAT cut short (`cutIdat`) comes first as a chunk of what is left of it (upng-js reads no CRC).
 */
export function withIend(bytes: Uint8Array, chunks: PngChunks): Uint8Array {
  const [cutStart, cutEnd] = chunks.cutIdat ? chunks.idat.at(-1)! : [0, 0];
  const cut = cutEnd - cutStart;
  const out = new Uint8Array(chunks.end + (chunks.cutIdat ? 12 + cut : 0) + IEND.length);
  out.set(bytes.subarray(0, chunks.end));
  let at = chunks.end;
  if (chunks.cutIdat) {
    new DataView(out.buffer).setUint32(at, cut);
    out.set([0x49, 0x44, 0x41, 0x54], at + 4);
    out.set(bytes.subarray(cutStart, cutEnd), at + 8);
    at += 12 + cut; // the CRC stays 0
  }
  out.set(IEND, at);
  return out;
}
