/**
 * Cut files are refused with `truncated_image` by both JPEG paths (jpeg-js and the 1/8-scale DC path) and by the
 * PNG path; a file that lost only its end marker (EOI / IEND) decodes to the same pixels as the whole file.
 * The files come from libjpeg-turbo and libpng (through sharp), not from the decoders under test.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { caffePreprocess } from '../preprocess-spec.js';
import { decodeImage, type DecodeOptions } from './decode.js';
import { ImageError } from './errors.js';
import { crc32, verifyPngChunks } from './png-chunks.js';
import { filteredImageBytes, inflatedImageBytes } from './png-data.js';
import { readPngHeader } from './header.js';
import { readJpegEnd } from './jpeg-end.js';

/** A photo-like RGB test card: gradients and edges, so every block has AC energy. */
function card(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * 255) / width;
      data[o + 1] = (y * 255) / height;
      data[o + 2] = ((x >> 3) ^ (y >> 3)) & 1 ? 220 : 30;
    }
  return data;
}

const encode = async (options: { progressive?: boolean; png?: boolean; interlaced?: boolean }, width = 320, height = 240) => {
  const image = sharp(card(width, height), { raw: { width, height, channels: 3 } });
  const out = options.png ? image.png({ progressive: options.interlaced ?? false, compressionLevel: 9 }) : image.jpeg({ quality: 90, progressive: options.progressive ?? false });
  return new Uint8Array(await out.toBuffer());
};

const outcome = (bytes: Uint8Array, options: DecodeOptions = {}) => {
  try {
    return decodeImage(bytes, undefined, options);
  } catch (e) {
    if (e instanceof ImageError) return e.code;
    throw e;
  }
};

/** Cut points across the file: inside the headers, the first scan, the middle, and the last bytes of data. */
const cutPoints = (length: number) => [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99].map((f) => Math.floor(length * f)).concat([length - 3]);

// A 16 px model reads a 320×240 photo at 1/8 scale (40×30 ≥ its crop); the tests check the path by the width.
const PATHS: Array<[string, DecodeOptions, number]> = [
  ['jpeg-js', {}, 320],
  ['1/8-scale DC path', { for: caffePreprocess(16, 16) }, 40],
];

describe('truncated JPEGs', () => {
  for (const progressive of [false, true]) {
    const kind = progressive ? 'progressive' : 'baseline';
    for (const [path, options, width] of PATHS) {
      it(`${kind}, ${path}: every cut is truncated_image; a file missing only EOI gives the whole file's pixels`, async () => {
        const bytes = await encode({ progressive });
        expect([bytes[bytes.length - 2], bytes[bytes.length - 1]]).toEqual([0xff, 0xd9]);
        const whole = outcome(bytes, options);
        if (typeof whole === 'string') throw new Error(`the whole file failed: ${whole}`);
        expect(whole.width).toBe(width);
        for (const cut of cutPoints(bytes.length)) expect(outcome(bytes.subarray(0, cut), options), `cut at ${cut} of ${bytes.length}`).toBe('truncated_image');
        // The DC path skips a progressive file's AC scans, so one without EOI is checked (and decoded) by jpeg-js.
        const reference = progressive ? outcome(bytes) : whole;
        if (typeof reference === 'string') throw new Error(reference);
        for (const lost of [1, 2]) {
          const noEoi = outcome(bytes.subarray(0, bytes.length - lost), options);
          if (typeof noEoi === 'string') throw new Error(`missing ${lost} EOI byte(s): ${noEoi}`);
          expect(noEoi.width).toBe(reference.width);
          expect(Buffer.from(noEoi.data).equals(Buffer.from(reference.data))).toBe(true);
        }
      });
    }
  }

  it('a scan whose header is there and whose data is not is truncated_image on both paths', async () => {
    const bytes = await encode({ progressive: true });
    let sos = 2;
    while (!(bytes[sos] === 0xff && bytes[sos + 1] === 0xda)) sos++;
    const headerEnd = sos + 2 + ((bytes[sos + 2]! << 8) | bytes[sos + 3]!);
    for (const [, options] of PATHS) expect(outcome(bytes.subarray(0, headerEnd), options)).toBe('truncated_image');
  });

  it('sees components that no scan covers, and where the last scan\u2019s data ends', () => {
    const sof = [0xff, 0xc0, 0, 17, 8, 0, 8, 0, 8, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1];
    const sos = (ids: number[]) => [0xff, 0xda, 0, 6 + 2 * ids.length, ids.length, ...ids.flatMap((id) => [id, 0]), 0, 63, 0];
    const file = (ids: number[], tail: number[]) => Uint8Array.from([0xff, 0xd8, ...sof, ...sos(ids), 0x12, 0xff, 0x00, 0x34, ...tail]);
    expect(readJpegEnd(file([1], [0xff, 0xd9]))).toEqual({ eoi: true, everyComponentScanned: false, dataEnd: file([1], []).length });
    expect(readJpegEnd(file([1, 2, 3], []))).toEqual({ eoi: false, everyComponentScanned: true, dataEnd: file([1, 2, 3], []).length });
    expect(readJpegEnd(file([1, 2, 3], [0xff]))).toMatchObject({ eoi: false, dataEnd: file([1, 2, 3], []).length });
    expect(readJpegEnd(file([1, 2, 3], [0xff, 0xd3, 0x56]))).toMatchObject({ eoi: false, dataEnd: file([1, 2, 3], [0xff, 0xd3, 0x56]).length }); // RSTn is inside the data
  });
});

/** The PNG with its image data spread over IDAT chunks of `size` bytes (as large encoders write it). */
function rechunk(png: Uint8Array, size: number): Uint8Array {
  const chunks = verifyPngChunks(png);
  const stream = Buffer.concat(chunks.idat.map(([a, b]) => png.subarray(a, b)));
  const first = chunks.idat[0]![0] - 8;
  const parts: Uint8Array[] = [png.subarray(0, first)];
  for (let at = 0; at < stream.length; at += size) {
    const data = stream.subarray(at, at + size);
    const chunk = new Uint8Array(12 + data.length);
    const view = new DataView(chunk.buffer);
    view.setUint32(0, data.length);
    chunk.set([0x49, 0x44, 0x41, 0x54], 4);
    chunk.set(data, 8);
    view.setUint32(8 + data.length, crc32(chunk, 4, 8 + data.length));
    parts.push(chunk);
  }
  parts.push(png.subarray(chunks.idat[chunks.idat.length - 1]![1] + 4));
  return new Uint8Array(Buffer.concat(parts));
}

describe('truncated PNGs', () => {
  for (const interlaced of [false, true]) {
    it(`${interlaced ? 'Adam7-interlaced' : 'non-interlaced'}: cuts inside or between IDAT chunks are truncated_image; a missing or cut IEND is not`, async () => {
      const bytes = rechunk(await encode({ png: true, interlaced }), 4096);
      const chunks = verifyPngChunks(bytes);
      expect(chunks.idat.length).toBeGreaterThan(3);
      expect(inflatedImageBytes(bytes, chunks)).toBe(filteredImageBytes(readPngHeader(bytes)));
      const whole = outcome(bytes);
      if (typeof whole === 'string') throw new Error(`the whole file failed: ${whole}`);
      const boundaries = chunks.idat.slice(1).map(([start]) => start - 8); // a file cut between two IDAT chunks
      for (const cut of [...cutPoints(bytes.length).slice(0, -1), ...boundaries]) expect(outcome(bytes.subarray(0, cut)), `cut at ${cut} of ${bytes.length}`).toBe('truncated_image');
      for (const lost of [12, 5, 1]) {
        const noIend = outcome(bytes.subarray(0, bytes.length - lost));
        if (typeof noIend === 'string') throw new Error(`missing ${lost} IEND byte(s): ${noIend}`);
        expect(Buffer.from(noIend.data).equals(Buffer.from(whole.data))).toBe(true);
      }
    });
  }

  it('knows how many bytes each colour type, depth and interlacing inflates to', () => {
    const header = (colorType: number, bitDepth: number, interlace: number, width = 7, height = 5) => ({ format: 'png' as const, width, height, colorType, bitDepth, interlace });
    expect(filteredImageBytes(header(2, 8, 0))).toBe(5 * (1 + 21));
    expect(filteredImageBytes(header(0, 1, 0))).toBe(5 * (1 + 1));
    expect(filteredImageBytes(header(6, 16, 0))).toBe(5 * (1 + 56));
    // 7×5 Adam7, 8-bit grey: passes of 1×1, 1×1, 2×1, 2×2, 4×1, 3×3 and 7×2 pixels, a filter byte per row.
    expect(filteredImageBytes(header(0, 8, 1))).toBe(2 + 2 + 3 + 2 * 3 + 5 + 3 * 4 + 2 * 8);
    expect(filteredImageBytes(header(0, 8, 1, 1, 1))).toBe(2); // only the first pass has pixels
  });
});

/** Rows [0, rows) of two decodes of the same size are equal. */
const sameRows = (a: { data: ArrayLike<number>; width: number; channels: number }, b: { data: ArrayLike<number> }, rows: number) => {
  const n = rows * a.width * a.channels;
  return Buffer.from(Array.from(a.data).slice(0, n)).equals(Buffer.from(Array.from(b.data).slice(0, n)));
};
const lastRow = (d: { data: ArrayLike<number>; width: number; channels: number }) => Array.from(d.data).slice(-d.width * d.channels);

describe('allowPartial: a cut file decoded as far as its data goes, and how much was missing', () => {
  for (const [path, options, width] of PATHS) {
    it(`baseline JPEG, ${path}: the rows before the cut are the whole file's, the rest grey; the missing share follows the cut`, async () => {
      const bytes = await encode({});
      const whole = outcome(bytes, options);
      if (typeof whole === 'string') throw new Error(whole);
      let previous = 1;
      for (const f of [0.25, 0.5, 0.75, 0.99]) {
        const part = outcome(bytes.subarray(0, Math.floor(bytes.length * f)), { ...options, allowPartial: true });
        if (typeof part === 'string') throw new Error(`cut at ${f}: ${part}`);
        expect(part.width).toBe(width);
        const missing = part.missing!.fraction;
        // The card's blocks cost about the same bits each: the missing share of blocks is near the missing share of bytes.
        expect(missing).toBeGreaterThan(0);
        expect(Math.abs(missing - (1 - f))).toBeLessThan(0.1);
        expect(missing).toBeLessThan(previous);
        previous = missing;
        expect(part.missing!.detail).toMatch(/ends before its last block/);
        const mcuRows = path === 'jpeg-js' ? 16 : 2; // 4:2:0: an MCU is 16 rows, 2 at 1/8 scale
        const intact = Math.floor((part.height / mcuRows) * (1 - missing) - 1) * mcuRows;
        expect(intact).toBeGreaterThan(0);
        expect(sameRows(part, whole, intact)).toBe(true);
        if (missing > 0.1) expect(new Set(lastRow(part))).toEqual(new Set([128]));
        // Without the opt-in the same bytes are refused.
        expect(outcome(bytes.subarray(0, Math.floor(bytes.length * f)), options)).toBe('truncated_image');
      }
    });
  }

  it('progressive JPEG: decoded from the scans it holds, said so; a cut before the scans of every component is still refused', async () => {
    const bytes = await encode({ progressive: true });
    const part = outcome(bytes.subarray(0, Math.floor(bytes.length * 0.5)), { allowPartial: true });
    if (typeof part === 'string') throw new Error(part);
    expect(part.missing!.fraction).toBeGreaterThan(0);
    expect(part.missing!.detail).toMatch(/scans after it/);
    expect(outcome(bytes.subarray(0, Math.floor(bytes.length * 0.02)), { allowPartial: true })).toBe('truncated_image');
  });

  it('a whole file, or one missing only its EOI, has no `missing`', async () => {
    const bytes = await encode({});
    for (const b of [bytes, bytes.subarray(0, bytes.length - 2)]) {
      const d = outcome(b, { allowPartial: true });
      if (typeof d === 'string') throw new Error(d);
      expect(d.missing).toBeUndefined();
    }
  });

  for (const interlaced of [false, true]) {
    it(`${interlaced ? 'Adam7-interlaced' : 'non-interlaced'} PNG cut inside or between IDAT chunks: the rows there are the whole file's, the rest black`, async () => {
      const bytes = rechunk(await encode({ png: true, interlaced }), 4096);
      const whole = outcome(bytes);
      if (typeof whole === 'string') throw new Error(whole);
      const boundary = verifyPngChunks(bytes).idat[2]![0] - 8;
      for (const cut of [Math.floor(bytes.length * 0.5), boundary]) {
        const part = outcome(bytes.subarray(0, cut), { allowPartial: true });
        if (typeof part === 'string') throw new Error(`cut at ${cut}: ${part}`);
        const missing = part.missing!.fraction;
        expect(missing).toBeGreaterThan(0);
        expect(missing).toBeLessThan(1);
        expect(lastRow(part).filter((_, i) => i % 4 !== 3).every((v) => v === 0)).toBe(true);
        if (!interlaced) expect(sameRows(part, whole, Math.floor(part.height * (1 - missing)) - 1)).toBe(true);
      }
      // A file that stops before any image data is refused even so.
      const firstIdat = verifyPngChunks(bytes).idat[0]![0] - 8;
      expect(outcome(bytes.subarray(0, firstIdat), { allowPartial: true })).toBe('truncated_image');
    });
  }
});
