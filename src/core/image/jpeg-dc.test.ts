/**
 * The 1/8-scale DCT-domain JPEG decoder against an independent reference: jpeg-js's full decode, averaged
 * over each 8×8 block (what the DC coefficient is). Files from libjpeg-turbo (sharp) in every layout the
 * decoder takes, and the photos and conformance files of ../shared/corpora when present.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { photoJpeg } from '../../../bench/lib/photo.js';
import { caffePreprocess } from '../preprocess-spec.js';
import { DEFAULT_DECODE_LIMITS, decodeImage } from './decode.js';
import { ImageError } from './errors.js';
import { readImageHeader } from './header.js';
import { decodeJpegAtEighth } from './jpeg-dc.js';

/** Mean and max |Δ| between the 1/8 decode and jpeg-js's full decode box-averaged per 8×8 block. */
function compareWithFullDecode(bytes: Uint8Array): { mean: number; p99: number; max: number; width: number; height: number } {
  const small = decodeJpegAtEighth(bytes);
  if (!small) throw new Error('not decodable at 1/8');
  const full = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048, maxResolutionInMP: 100 });
  expect([small.width, small.height]).toEqual([Math.ceil(full.width / 8), Math.ceil(full.height / 8)]);
  const diffs: number[] = [];
  for (let by = 0; by < small.height; by++) {
    for (let bx = 0; bx < small.width; bx++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        let n = 0;
        for (let y = by * 8; y < Math.min(full.height, by * 8 + 8); y++) for (let x = bx * 8; x < Math.min(full.width, bx * 8 + 8); x++, n++) acc += full.data[(y * full.width + x) * 3 + c]!;
        diffs.push(Math.abs(acc / n - small.data[(by * small.width + bx) * 3 + c]!));
      }
    }
  }
  diffs.sort((a, b) => a - b);
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  return { mean, p99: diffs[Math.floor(diffs.length * 0.99)]!, max: diffs.at(-1)!, width: small.width, height: small.height };
}

/** A smooth, photo-like RGB image (what chroma subsampling is designed for). */
async function smooth(width: number, height: number, options: sharp.JpegOptions): Promise<Uint8Array> {
  return new Uint8Array(await sharp(await photoJpeg(width, height, 95)).jpeg(options).toBuffer());
}

describe('JPEG at 1/8 scale in the DCT domain', () => {
  // 4:4:4: exact up to rounding and clamping. 4:2:0: a chroma block spans 2×2 luma blocks, so at a sharp
  // colour edge its mean spreads over all four (the full decode's upsampled chroma does not): small on average.
  const layouts: Array<[string, sharp.JpegOptions, number, number]> = [
    ['baseline 4:4:4', { quality: 90, chromaSubsampling: '4:4:4' }, 0.6, 3],
    ['baseline 4:2:0', { quality: 85 }, 2, 30],
    ['progressive 4:4:4', { quality: 90, chromaSubsampling: '4:4:4', progressive: true }, 0.6, 3],
    ['progressive 4:2:0', { quality: 80, progressive: true }, 2, 30],
    ['optimised Huffman tables, 4:2:0', { quality: 75, optimiseCoding: true }, 2, 30],
  ];
  for (const [name, options, meanBound, p99Bound] of layouts) {
    it(`${name}: each pixel is its 8×8 block's mean (odd sizes included)`, async () => {
      const r = compareWithFullDecode(await smooth(803, 597, options));
      expect([r.width, r.height]).toEqual([101, 75]);
      expect(r.mean).toBeLessThan(meanBound);
      expect(r.p99).toBeLessThan(p99Bound);
    });
  }

  it('grayscale', async () => {
    const bytes = new Uint8Array(await sharp(await photoJpeg(640, 480)).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer());
    expect(readImageHeader(bytes)).toMatchObject({ components: [{ h: 1, v: 1 }] });
    const r = compareWithFullDecode(bytes);
    expect(r.mean).toBeLessThan(0.6);
    expect(r.max).toBeLessThan(3);
  });

  it('leaves CMYK to the full decoder', async () => {
    const cmyk = new Uint8Array(await sharp(await photoJpeg(64, 64)).toColourspace('cmyk').jpeg().toBuffer());
    const header = readImageHeader(cmyk);
    expect(header.format === 'jpeg' ? header.components : []).toHaveLength(4);
    expect(decodeJpegAtEighth(cmyk)).toBeNull();
  });

  it('never throws anything but an ImageError on cut or damaged data', async () => {
    const bytes = await smooth(400, 300, { quality: 80 });
    const outcomeOf = (data: Uint8Array) => {
      try {
        return decodeJpegAtEighth(data) === null ? 'declined' : 'decoded';
      } catch (e) {
        return e instanceof ImageError ? 'ImageError' : `other error: ${String(e)}`;
      }
    };
    const damaged = Uint8Array.from(bytes);
    for (let i = 700; i < damaged.length; i += 97) damaged[i] ^= 0x5a;
    const cuts = [200, 600, 2000, bytes.length >> 1, bytes.length - 10].map((cut) => outcomeOf(bytes.subarray(0, cut)));
    for (const outcome of [...cuts, outcomeOf(damaged)]) expect(['decoded', 'declined', 'ImageError']).toContain(outcome);
    // A file cut in its entropy-coded data is refused, never decoded into half an image.
    expect(cuts.slice(2)).toEqual(['ImageError', 'ImageError', 'ImageError']);
  });

  it('decodeImage takes the 1/8 path only when the model input still gets a pixel per pixel', async () => {
    const spec = caffePreprocess(224, 224);
    const big = await smooth(2000, 1800, { quality: 85 });
    expect(decodeImage(big, DEFAULT_DECODE_LIMITS, { for: spec })).toMatchObject({ width: 250, height: 225, channels: 3 });
    const medium = await smooth(1500, 1200, { quality: 85 }); // 1/8 would be 187 px wide: < 224
    expect(decodeImage(medium, DEFAULT_DECODE_LIMITS, { for: spec })).toMatchObject({ width: 1500, height: 1200 });
    expect(decodeImage(big, { maxPixels: 1e8 })).toMatchObject({ width: 2000, height: 1800 }); // no spec: full
  });

  it('a 12 MP photo fits the shipped decode budget at 1/8 (and would not in full)', async () => {
    const photo = await photoJpeg(4000, 3000, 85);
    const spec = caffePreprocess(224, 224);
    expect(decodeImage(photo, DEFAULT_DECODE_LIMITS, { for: spec })).toMatchObject({ width: 500, height: 375 });
    expect(() => decodeImage(photo, DEFAULT_DECODE_LIMITS)).toThrow(/needs about \d+ MB/);
  });
});

const CORPORA = '../shared/corpora';
describe.skipIf(!existsSync(CORPORA))('JPEG at 1/8 scale on the corpora (../shared/corpora)', () => {
  it('matches the box-averaged full decode on every photo and conformance JPEG it takes', () => {
    const walk = (p: string): string[] => (statSync(p).isDirectory() ? readdirSync(p).flatMap((f) => walk(join(p, f))) : [p]);
    const files = ['photos', 'conformance'].filter((d) => existsSync(join(CORPORA, d))).flatMap((d) => walk(join(CORPORA, d))).filter((f) => /\.jpe?g$/i.test(f));
    const means: number[] = [];
    const worst: Array<[string, number]> = [];
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f));
      let header;
      try {
        header = readImageHeader(bytes);
      } catch {
        continue;
      }
      if (header.format !== 'jpeg' || ![0xc0, 0xc1, 0xc2].includes(header.sof) || header.precision !== 8 || header.width * header.height > 30e6) continue;
      let full;
      try {
        full = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048, maxResolutionInMP: 100 });
      } catch {
        continue; // not a valid JPEG for the reference either
      }
      if (!full || decodeJpegAtEighth(bytes) === null) continue;
      const r = compareWithFullDecode(bytes);
      means.push(r.mean);
      worst.push([f, r.mean]);
    }
    worst.sort((a, b) => b[1] - a[1]);
    console.log(`1/8-scale decode on ${means.length} corpus JPEGs; worst mean |Δ|: ${worst.slice(0, 3).map(([f, m]) => `${f.split('/').slice(-2).join('/')} ${m.toFixed(2)}`).join(', ')}`);
    expect(means.length).toBeGreaterThan(100);
    means.sort((a, b) => a - b);
    expect(means[Math.floor(means.length / 2)]).toBeLessThan(1.5);
    expect(worst[0]![1]).toBeLessThan(8);
  });
});
