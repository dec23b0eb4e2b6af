/**
 * @module PNG chunk structure, checked before upng-js sees the file: every chunk whole, IHDR first, at least
 * one IDAT, and the CRC right on every critical chunk. upng-js checks none of this (it decodes files with bad
 * CRCs), and a CRC mismatch is the format's own signal that the bytes are damaged. As libpng does by
 * default, a bad CRC on an ancillary chunk (lowercase first letter: metadata) is ignored, and bytes after
 * IEND, or an IEND cut short, are tolerated once the image data is complete.
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
const chunkName = (bytes: Uint8Array, at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);

/** Walks the chunks after the signature; throws `corrupt_image` on the first structural fault. */
export function verifyPngChunks(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let idat = false;
  for (let index = 0; ; index++) {
    if (at === bytes.length) {
      // Ends cleanly on a chunk boundary without IEND: lenient, as browsers are, when image data was seen.
      if (!idat) throw corrupt('no IDAT chunk (no image data)');
      return;
    }
    if (at + 8 <= bytes.length && idat && chunkName(bytes, at + 4) === 'IEND') return; // IEND cut short
    if (at + 12 > bytes.length) throw corrupt(`truncated inside chunk ${index}`);
    const length = view.getUint32(at);
    const name = chunkName(bytes, at + 4);
    if (length > 0x7fffffff) throw corrupt(`chunk ${JSON.stringify(name)} declares ${length} bytes`);
    if (!/^[A-Za-z]{4}$/.test(name)) throw corrupt(`chunk ${index} has an invalid type ${JSON.stringify(name)}`);
    if (index === 0 && name !== 'IHDR') throw corrupt(`first chunk is ${JSON.stringify(name)}, not IHDR`);
    const end = at + 8 + length;
    if (end + 4 > bytes.length) throw corrupt(`truncated inside chunk ${JSON.stringify(name)}`);
    const critical = name.charCodeAt(0) < 0x61; // uppercase first letter
    if (critical && crc32(bytes, at + 4, end) !== view.getUint32(end)) throw corrupt(`chunk ${JSON.stringify(name)} fails its CRC check (the file is damaged)`);
    if (name === 'IDAT') idat = true;
    at = end + 4;
    if (name === 'IEND') {
      if (!idat) throw corrupt('no IDAT chunk (no image data)');
      return; // anything after IEND is ignored
    }
  }
}
