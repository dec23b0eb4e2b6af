/**
 * Seeded mutation fuzzing of the decode path (header → decode → preprocess): bit flips, byte runs,
 * truncation, length-field and dimension edits, on JPEGs and PNGs encoded here (baseline, progressive,
 * interlaced, palette, 16-bit) and, when present, on files of ../shared/corpora. Every outcome must be an
 * image within the limits or a typed ImageError, quickly; a failure names the seed to replay it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusFiles, CORPORA_DIR, hasCorpora } from '../../bench/lib/corpus-files.js';
import { decodeImage, type DecodeLimits } from '../../src/core/image/decode.js';
import { isImageError } from '../../src/core/image/errors.js';
import { readImageHeader } from '../../src/core/image/header.js';
import { preprocessImage } from '../../src/core/preprocess.js';
import { caffePreprocess } from '../../src/core/preprocess-spec.js';
import { seededRandom, type Random } from '../../training/data/random.js';

const LIMITS: DecodeLimits = { maxPixels: 2_100_000, maxDecodeBytes: 46 * 2 ** 20 };
const SPEC = caffePreprocess(32, 32);
/** So small that every JPEG of 16 px or more takes the 1/8-scale DCT-domain decoder (jpeg-dc.ts). */
const EIGHTH_SPEC = caffePreprocess(2, 2);
/** A hang guard, not a benchmark: far above any legitimate decode of these small files. */
const HANG_GUARD_MS = 5_000;

/** Offsets of JPEG marker segments' length fields and PNG chunk length fields: where edits hurt most. */
function lengthFields(bytes: Uint8Array): number[] {
  const at: number[] = [];
  if (bytes[0] === 0x89) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let p = 8; p + 8 <= bytes.length; p += 12 + view.getUint32(p)) at.push(p);
  } else {
    for (let p = 2; p + 4 <= bytes.length; ) {
      if (bytes[p] !== 0xff) break;
      at.push(p + 2);
      if (bytes[p + 1] === 0xda) break; // entropy-coded data follows
      p += 2 + ((bytes[p + 2]! << 8) | bytes[p + 3]!);
    }
  }
  return at;
}

/** One seeded mutation of `source`. */
function mutate(source: Uint8Array, random: Random): Uint8Array {
  const bytes = Uint8Array.from(source);
  const kind = random.int(0, 6);
  const anywhere = () => random.int(0, bytes.length);
  switch (kind) {
    case 0: // bit flips
      for (let i = random.int(1, 9); i > 0; i--) bytes[anywhere()]! ^= 1 << random.int(0, 8);
      return bytes;
    case 1: // a run of random bytes
      for (let p = anywhere(), n = random.int(1, 64); n > 0 && p < bytes.length; n--, p++) bytes[p] = random.int(0, 256);
      return bytes;
    case 2: // truncation
      return bytes.subarray(0, random.int(0, bytes.length));
    case 3: {
      // a length field set to 0, 1, its max, or random
      const fields = lengthFields(bytes);
      if (!fields.length) return bytes;
      const p = fields[random.int(0, fields.length)]!;
      const v = [0, 1, 0xff, random.int(0, 256)][random.int(0, 4)]!;
      bytes[p] = v;
      if (p + 1 < bytes.length) bytes[p + 1] = [0, 1, 0xff, random.int(0, 256)][random.int(0, 4)]!;
      return bytes;
    }
    case 4: {
      // dimensions: PNG IHDR width/height, or the JPEG SOF's
      const edits = [0, 1, 0xff, 0x7f];
      if (bytes[0] === 0x89) for (const p of [16 + random.int(0, 8)]) bytes[p] = edits[random.int(0, 4)]!;
      else {
        const sof = bytes.findIndex((b, i) => b === 0xff && [0xc0, 0xc1, 0xc2].includes(bytes[i + 1]!));
        if (sof >= 0) bytes[sof + 5 + random.int(0, 4)] = edits[random.int(0, 4)]!;
      }
      return bytes;
    }
    default: {
      // a duplicated or dropped slice
      const a = anywhere();
      const b = Math.min(bytes.length, a + random.int(1, 200));
      return random.next() < 0.5 ? Uint8Array.from([...bytes.subarray(0, a), ...bytes.subarray(a, b), ...bytes.subarray(a)]) : Uint8Array.from([...bytes.subarray(0, a), ...bytes.subarray(b)]);
    }
  }
}

function fuzz(name: string, source: Uint8Array, cases: number, seed: number, spec?: typeof SPEC, allowPartial = false): Record<string, number> {
  const outcomes: Record<string, number> = {};
  for (let i = 0; i < cases; i++) {
    const caseSeed = seed * 100_003 + i;
    const input = mutate(source, seededRandom(caseSeed));
    const started = performance.now();
    let outcome = 'ok';
    try {
      const image = decodeImage(input, LIMITS, { for: spec, allowPartial });
      expect(image.width * image.height, `${name} seed ${caseSeed}`).toBeLessThanOrEqual(LIMITS.maxPixels);
      if (image.missing) {
        expect(image.missing.fraction, `${name} seed ${caseSeed}`).toBeGreaterThan(0);
        expect(image.missing.fraction, `${name} seed ${caseSeed}`).toBeLessThanOrEqual(1);
        outcome = 'partial';
      }
      preprocessImage(image, spec ?? SPEC);
    } catch (e) {
      if (!isImageError(e)) throw new Error(`${name}, seed ${caseSeed}: untyped ${String(e)}`);
      outcome = e.code;
    }
    expect(performance.now() - started, `${name} seed ${caseSeed}`).toBeLessThan(HANG_GUARD_MS);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return outcomes;
}

const seeds: Record<string, Uint8Array> = {};

beforeAll(async () => {
  const random = seededRandom(11);
  const rgba = (w: number, h: number) => Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : random.int(0, 256)));
  const raw = (w: number, h: number) => sharp(Buffer.from(rgba(w, h)), { raw: { width: w, height: h, channels: 4 } });
  seeds['baseline.jpg'] = new Uint8Array(await raw(48, 40).jpeg({ quality: 80 }).toBuffer());
  seeds['progressive-444.jpg'] = new Uint8Array(await raw(40, 33).jpeg({ progressive: true, chromaSubsampling: '4:4:4' }).toBuffer());
  seeds['restart.jpg'] = new Uint8Array(await raw(64, 16).jpeg({ quality: 60, optimiseCoding: true }).toBuffer());
  seeds['rgba.png'] = encodePng({ width: 30, height: 20, data: rgba(30, 20) });
  seeds['interlaced.png'] = new Uint8Array(await raw(33, 17).png({ progressive: true }).toBuffer());
  seeds['palette.png'] = new Uint8Array(await raw(24, 24).png({ palette: true, colours: 16 }).toBuffer());
  seeds['gray16.png'] = encodePng({ width: 12, height: 9, channels: 1, depth: 16, data: Uint16Array.from({ length: 108 }, () => random.int(0, 65536)) });
});

describe('fuzzing the decode path', () => {
  it('generated JPEGs and PNGs: 300 mutations each give only typed errors, quickly, within the limits', () => {
    const all: Record<string, number> = {};
    for (const [i, [name, bytes]] of Object.entries(seeds).entries()) {
      expect(() => decodeImage(bytes, LIMITS), `${name} must decode before mutation`).not.toThrow();
      for (const [k, v] of Object.entries(fuzz(name, bytes, 300, i + 1))) all[k] = (all[k] ?? 0) + v;
    }
    console.log('fuzz outcomes (generated)', all);
    expect(Object.keys(all).length).toBeGreaterThan(2); // the mutations do reach more than one outcome
  });

  it('generated JPEGs through the 1/8-scale DCT-domain decoder: 300 mutations each, typed errors only', () => {
    const all: Record<string, number> = {};
    const jpegs = Object.entries(seeds).filter(([name]) => name.endsWith('.jpg'));
    for (const [i, [name, bytes]] of jpegs.entries()) {
      expect(decodeImage(bytes, LIMITS, { for: EIGHTH_SPEC }).width, `${name} takes the 1/8 path`).toBe(Math.ceil((readImageHeader(bytes) as { width: number }).width / 8));
      for (const [k, v] of Object.entries(fuzz(`${name} at 1/8`, bytes, 300, 50 + i, EIGHTH_SPEC))) all[k] = (all[k] ?? 0) + v;
    }
    console.log('fuzz outcomes (1/8 scale)', all);
    expect(all.ok).toBeGreaterThan(0);
  });

  it('partial decodes (allowPartial, both JPEG paths): 300 mutations each, typed errors only, `missing` in (0, 1]', () => {
    const all: Record<string, number> = {};
    for (const [i, [name, bytes]] of Object.entries(seeds).entries()) {
      for (const [k, v] of Object.entries(fuzz(`${name} partial`, bytes, 300, 80 + i, undefined, true))) all[k] = (all[k] ?? 0) + v;
      if (name.endsWith('.jpg')) for (const [k, v] of Object.entries(fuzz(`${name} partial at 1/8`, bytes, 300, 90 + i, EIGHTH_SPEC, true))) all[k] = (all[k] ?? 0) + v;
    }
    console.log('fuzz outcomes (partial)', all);
    expect(all.partial).toBeGreaterThan(0); // the cuts among the mutations do decode partially
  });

  it.skipIf(!hasCorpora())('corpus files: 20 mutations each of every 25th file [needs ../shared/corpora]', () => {
    const files = corpusFiles().filter((_, i) => i % 25 === 0);
    const all: Record<string, number> = {};
    for (const [i, file] of files.entries()) {
      const bytes = new Uint8Array(readFileSync(join(CORPORA_DIR, file)));
      for (const [k, v] of Object.entries(fuzz(file, bytes, 20, 1000 + i))) all[k] = (all[k] ?? 0) + v;
      if (/\.jpe?g$/i.test(file)) for (const [k, v] of Object.entries(fuzz(`${file} at 1/8`, bytes, 10, 5000 + i, EIGHTH_SPEC))) all[k] = (all[k] ?? 0) + v;
    }
    console.log('fuzz outcomes (corpus)', all);
    expect(files.length).toBeGreaterThan(50);
  });
});
