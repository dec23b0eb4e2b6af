/**
 * @module Where a JPEG ends: whether its scans cover every component of the frame and whether it closes with
 * EOI. A cut upload loses its EOI first, so a file without one is decoded only where a decoder can prove
 * every block of every scan present was there (decode.ts: jpeg-js given the EOI back, or the 1/8-scale path
 * for sequential files).
 */

export interface JpegEnd {
  /** The EOI marker was found after the last scan. */
  eoi: boolean;
  /** Every component the frame declares appears in at least one scan. */
  everyComponentScanned: boolean;
  /** Offset just past the last scan's entropy-coded data (where EOI is or should be). */
  dataEnd: number;
}

const isRestart = (marker: number) => marker >= 0xd0 && marker <= 0xd7;

/** Walks segments and skips each scan's entropy-coded data (0xFF00 stuffing and RSTn inside it) to the next marker. */
export function readJpegEnd(bytes: Uint8Array): JpegEnd {
  const u16 = (p: number) => (bytes[p]! << 8) | bytes[p + 1]!;
  const frame = new Set<number>();
  const scanned = new Set<number>();
  let pos = 2;
  let dataEnd = bytes.length;
  while (pos + 1 < bytes.length) {
    if (bytes[pos] !== 0xff) {
      pos++; // garbage between segments, tolerated as libjpeg does
      continue;
    }
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === 0xd9) return { eoi: true, everyComponentScanned: [...frame].every((id) => scanned.has(id)), dataEnd: pos };
    if (marker === 0x00 || marker === 0x01 || marker === 0xd8 || isRestart(marker)) {
      pos += 2;
      continue;
    }
    if (pos + 4 > bytes.length) break;
    const end = pos + 2 + u16(pos + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && end <= bytes.length) for (let i = 0, n = bytes[pos + 9]!; i < n; i++) frame.add(bytes[pos + 10 + i * 3]!);
    if (marker === 0xda && end <= bytes.length) {
      for (let i = 0, n = bytes[pos + 4]!; i < n; i++) scanned.add(bytes[pos + 5 + i * 2]!);
      // Every request's JPEG passes here: jump from 0xFF to 0xFF (indexOf is native) rather than test each byte.
      let p = bytes.indexOf(0xff, end);
      while (p >= 0 && p + 1 < bytes.length) {
        const next = bytes[p + 1]!;
        if (next !== 0x00 && next !== 0xff && !isRestart(next)) break; // a marker: the scan's data ends here
        p = bytes.indexOf(0xff, p + (next === 0xff ? 1 : 2));
      }
      if (p < 0 || p + 1 >= bytes.length) {
        // The file ends in this scan's data (a lone 0xFF at the very end is the start of the lost marker).
        dataEnd = p < 0 ? bytes.length : p;
        break;
      }
      dataEnd = p;
      pos = p;
      continue;
    }
    pos = end;
  }
  return { eoi: false, everyComponentScanned: frame.size > 0 && [...frame].every((id) => scanned.has(id)), dataEnd };
}

/** The file with EOI after its last scan, for decoders (jpeg-js) that refuse a file without one even when complete. */
export function withEoi(bytes: Uint8Array, end: JpegEnd): Uint8Array {
  const out = new Uint8Array(end.dataEnd + 2);
  out.set(bytes.subarray(0, end.dataEnd));
  out[end.dataEnd] = 0xff;
  out[end.dataEnd + 1] = 0xd9;
  return out;
}
