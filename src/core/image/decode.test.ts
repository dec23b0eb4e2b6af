import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { decodeImage } from './decode.js';
import { ImageError } from './errors.js';
import { readImageHeader, sniffFormat } from './header.js';

const pixels = (w: number, h: number) => Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256));
const jpegOf = (w: number, h: number) => new Uint8Array(jpeg.encode({ width: w, height: h, data: pixels(w, h) }, 95).data);
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof ImageError ? e.code : `not an ImageError: ${String(e)}`;
  }
  return 'no error';
};

/** An APP1 EXIF segment holding only the orientation tag (big-endian TIFF). */
function exifSegment(orientation: number): Uint8Array {
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0, 0, 0];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const length = payload.length + 2;
  return Uint8Array.from([0xff, 0xe1, length >> 8, length & 0xff, ...payload]);
}

describe('headers', () => {
  it('sniffs by magic bytes only', () => {
    expect(sniffFormat(jpegOf(2, 2))).toBe('jpeg');
    expect(sniffFormat(encodePng({ width: 2, height: 2, data: pixels(2, 2) }))).toBe('png');
    expect(sniffFormat(new TextEncoder().encode('GIF89a....'))).toBeNull();
  });
  it('reads JPEG dimensions and EXIF orientation before decoding', () => {
    const j = jpegOf(7, 5);
    const withExif = new Uint8Array([...j.subarray(0, 2), ...exifSegment(6), ...j.subarray(2)]);
    expect(readImageHeader(withExif)).toMatchObject({ format: 'jpeg', width: 7, height: 5, orientation: 6, precision: 8 });
    expect(decodeImage(withExif)).toMatchObject({ width: 7, height: 5, orientation: 6, channels: 3 });
  });
  it('refuses a 12-bit JPEG instead of decoding garbage', () => {
    const j = jpegOf(4, 4);
    const sof = j.findIndex((b, i) => b === 0xff && j[i + 1] === 0xc0);
    const twelve = Uint8Array.from(j);
    twelve[sof + 4] = 12;
    expect(code(() => decodeImage(twelve))).toBe('unsupported_image_variant');
  });
  it('refuses by declared size, before allocating', () => {
    expect(code(() => decodeImage(jpegOf(64, 64), { maxPixels: 1000 }))).toBe('image_too_large');
  });
  it('refuses by estimated decode memory: a 4:4:4 JPEG needs more than a 4:2:0 one of the same size', async () => {
    const { estimateDecodeBytes } = await import('./footprint.js');
    const header = readImageHeader(jpegOf(16, 16)) as Extract<ReturnType<typeof readImageHeader>, { format: 'jpeg' }>;
    const at = (components: Array<{ h: number; v: number }>) => estimateDecodeBytes({ ...header, width: 1920, height: 1080, components });
    const yuv420 = at([{ h: 2, v: 2 }, { h: 1, v: 1 }, { h: 1, v: 1 }]);
    const yuv444 = at([{ h: 1, v: 1 }, { h: 1, v: 1 }, { h: 1, v: 1 }]);
    expect(yuv420 / 2 ** 20).toBeGreaterThan(40); // measured 43.7 MB (bench/decode-footprint.ts)
    expect(yuv420 / 2 ** 20).toBeLessThan(46);
    expect(yuv444 / 2 ** 20).toBeGreaterThan(58); // measured 61.8 MB
    expect(code(() => decodeImage(jpegOf(64, 64), { maxPixels: 1e6, maxDecodeBytes: 10_000 }))).toBe('image_too_large');
    expect(decodeImage(jpegOf(64, 64), { maxPixels: 1e6, maxDecodeBytes: 1e6 }).width).toBe(64);
  });
  it('turns codec crashes into corrupt_image and truncation into truncated_image (more: truncation.test.ts)', () => {
    const j = jpegOf(16, 16);
    expect(code(() => decodeImage(j.subarray(0, j.length / 3)))).toBe('truncated_image');
    const p = encodePng({ width: 8, height: 8, data: pixels(8, 8) });
    expect(code(() => decodeImage(p.subarray(0, 40)))).toBe('truncated_image');
    expect(code(() => decodeImage(new Uint8Array([0xff, 0xd8, 0xff])))).toBe('truncated_image');
    const badLength = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0, 0, 0, 0]);
    expect(code(() => decodeImage(badLength))).toBe('corrupt_image');
    expect(code(() => decodeImage(new TextEncoder().encode('hello')))).toBe('unsupported_format');
  });
});

describe('decoders against reference RGBA', () => {
  it('PNG: exact pixels, RGBA', () => {
    const data = pixels(5, 3);
    const img = decodeImage(encodePng({ width: 5, height: 3, data }));
    expect(img.channels).toBe(4);
    expect(Array.from(img.data)).toEqual(Array.from(data));
  });

  // PngSuite, the whole corpus and EXIF orientations: test/node/corpus.test.ts.
});
