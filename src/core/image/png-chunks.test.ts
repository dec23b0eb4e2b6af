import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { crc32, verifyPngChunks } from './png-chunks.js';

const png = () => encodePng({ width: 4, height: 3, data: new Uint8Array(4 * 3 * 4).map((_, i) => (i * 37) & 255) });

/** Byte offset of the first chunk named `name`. */
function chunkAt(bytes: Uint8Array, name: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  for (let at = 8; at < bytes.length; at += 12 + view.getUint32(at)) if (String.fromCharCode(...bytes.subarray(at + 4, at + 8)) === name) return at;
  throw new Error(`no ${name}`);
}

/** Inserts an ancillary tEXt chunk after IHDR, with a right or wrong CRC. */
function withText(bytes: Uint8Array, goodCrc: boolean): Uint8Array {
  const data = new TextEncoder().encode('Comment\0hello');
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(new TextEncoder().encode('tEXt'), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk, 4, 8 + data.length) ^ (goodCrc ? 0 : 1));
  const at = 8 + 25; // after the signature and IHDR
  return Uint8Array.from([...bytes.subarray(0, at), ...chunk, ...bytes.subarray(at)]);
}

describe('PNG chunk checks', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('accepts a well-formed file, with trailing bytes after IEND', () => {
    const bytes = png();
    expect(() => verifyPngChunks(bytes)).not.toThrow();
    expect(() => verifyPngChunks(Uint8Array.from([...bytes, 1, 2, 3]))).not.toThrow();
  });

  it('refuses a critical chunk whose CRC does not match (a flipped bit in IDAT or IHDR)', () => {
    for (const name of ['IDAT', 'IHDR']) {
      const bytes = png();
      bytes[chunkAt(bytes, name) + 8] ^= 0x01;
      expect(() => verifyPngChunks(bytes)).toThrow(/CRC/);
    }
  });

  it('ignores a bad CRC on an ancillary chunk, as libpng does', () => {
    expect(() => verifyPngChunks(withText(png(), true))).not.toThrow();
    expect(() => verifyPngChunks(withText(png(), false))).not.toThrow();
  });

  it('refuses truncation inside image data and a file with no IDAT', () => {
    const bytes = png();
    expect(() => verifyPngChunks(bytes.subarray(0, chunkAt(bytes, 'IDAT') + 10))).toThrow(/ends inside chunk "IDAT"/);
    expect(() => verifyPngChunks(bytes.subarray(0, chunkAt(bytes, 'IDAT')))).toThrow(/no IDAT/);
  });

  it('reports a missing or cut IEND, and where the whole chunks end', () => {
    const bytes = png();
    const iend = chunkAt(bytes, 'IEND');
    expect(verifyPngChunks(bytes)).toMatchObject({ iend: true, end: iend });
    for (const cut of [iend, iend + 3, iend + 8, iend + 11]) expect(verifyPngChunks(bytes.subarray(0, cut))).toMatchObject({ iend: false, end: iend });
    const idat = chunkAt(bytes, 'IDAT');
    expect(verifyPngChunks(bytes).idat).toEqual([[idat + 8, idat + 8 + new DataView(bytes.buffer).getUint32(idat)]]);
  });
});
