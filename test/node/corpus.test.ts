/**
 * The decode path against ../shared/corpora (1,738 third-party files): valid images decode, everything else
 * gets a typed error with a stable code, PngSuite decodes to its reference RGBA, corrupt PngSuite files are
 * refused, and every EXIF orientation gives the same upright tensor. Skipped, saying so, without the corpora.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusFiles, CORPORA_DIR, hasCorpora } from '../../bench/lib/corpus-files.js';
import { decodeImage, DEFAULT_DECODE_LIMITS } from '../../src/core/image/decode.js';
import { isImageError } from '../../src/core/image/errors.js';
import { readPngHeader } from '../../src/core/image/header.js';
import { verifyPngChunks } from '../../src/core/image/png-chunks.js';
import { filteredImageBytes, inflatedImageBytes } from '../../src/core/image/png-data.js';
import { preprocessImage } from '../../src/core/preprocess.js';
import { caffePreprocess } from '../../src/core/preprocess-spec.js';

const present = hasCorpora();
if (!present) console.warn(`corpus tests skipped: ${CORPORA_DIR} is absent`);
const read = (path: string) => new Uint8Array(readFileSync(join(CORPORA_DIR, path)));

/** A hang guard, not a benchmark (bench/corpus.ts reports the real times): far above the slowest file. */
const HANG_GUARD_MS = 10_000;

describe.skipIf(!present)('corpus through the decode path [needs ../shared/corpora]', () => {
  it('every file decodes and preprocesses, or is refused with a typed error; nothing hangs', () => {
    const spec = caffePreprocess(224, 224);
    const outcomes: Record<string, number> = {};
    const untyped: string[] = [];
    const times: Array<[number, string]> = [];
    const files = corpusFiles();
    expect(files.length).toBeGreaterThan(1400);
    for (const file of files) {
      const started = performance.now();
      let outcome = 'ok';
      try {
        preprocessImage(decodeImage(read(file), DEFAULT_DECODE_LIMITS), spec);
      } catch (e) {
        if (isImageError(e)) outcome = e.code;
        else untyped.push(`${file}: ${String(e)}`);
      }
      const ms = performance.now() - started;
      expect(ms, file).toBeLessThan(HANG_GUARD_MS);
      times.push([Math.round(ms), file]);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    console.log('corpus decode outcomes', outcomes, 'slowest (ms)', times.sort((a, b) => b[0] - a[0]).slice(0, 5));
    expect(untyped).toEqual([]);
    expect(outcomes.ok).toBeGreaterThan(1000);
  });

  it('PngSuite: every valid file matches its reference RGBA (±1), interlaced 1-bit included', () => {
    const files = corpusFiles(join(CORPORA_DIR, 'pngsuite')).filter((f) => /^[^x].*\.png$/.test(f));
    expect(files).toHaveLength(161);
    const mismatches: string[] = [];
    for (const f of files) {
      const bytes = read(join('pngsuite', f));
      const reference = (suffix: string) => {
        try {
          return JSON.parse(readFileSync(join(CORPORA_DIR, 'pngsuite', 'expected_rgba_json', f.replace(/\.png$/, suffix)), 'utf8')) as number[];
        } catch {
          return null;
        }
      };
      // 16-bit files: the 8-bit reference when there is one, else the 16-bit one scaled to 8 bits.
      const eight = reference('_to8.json');
      const sixteen = bytes[24] === 16 && !eight;
      const ref = eight ?? reference('.json');
      if (!ref) {
        mismatches.push(`${f}: no reference`);
        continue;
      }
      const img = decodeImage(bytes, { maxPixels: 1e6 });
      const pixels = img.width * img.height;
      if (ref.length !== pixels * 4) {
        mismatches.push(`${f}: ${ref.length / 4} reference pixels, decoded ${pixels}`);
        continue;
      }
      let worst = 0;
      for (let i = 0; i < pixels * 4; i++) {
        const got = img.channels === 4 ? img.data[i]! : i % 4 === 3 ? 255 : img.data[(i >> 2) * 3 + (i % 4)]!;
        const want = sixteen ? Math.round(ref[i]! / 257) : ref[i]!;
        worst = Math.max(worst, Math.abs(got - want));
      }
      if (worst > 1) mismatches.push(`${f}: max |Δ| ${worst}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('PngSuite: all 14 corrupt x*.png files are refused as corrupt', () => {
    const files = corpusFiles(join(CORPORA_DIR, 'pngsuite')).filter((f) => /^x.*\.png$/.test(f));
    expect(files).toHaveLength(14);
    const accepted: string[] = [];
    for (const f of files) {
      try {
        decodeImage(read(join('pngsuite', f)));
        accepted.push(f);
      } catch (e) {
        expect(isImageError(e) && ['corrupt_image', 'unsupported_format'].includes(e.code), `${f}: ${String(e)}`).toBe(true);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('EXIF orientations 0–8 all give the same upright tensor (and ignoring the tag would not)', () => {
    const spec = caffePreprocess(64, 64);
    const meanAbs = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    for (const kind of ['Landscape', 'Portrait']) {
      const decode = (n: number) => decodeImage(read(`jpeg/exif-orientation-examples/${kind}_${n}.jpg`), { maxPixels: 64e6 });
      const upright = preprocessImage(decode(1), spec);
      for (let n = 0; n <= 8; n++) expect(meanAbs(preprocessImage(decode(n), spec), upright), `${kind}_${n}`).toBeLessThan(2);
      // The check has teeth: orientation 6 read as if untagged is far from upright.
      expect(meanAbs(preprocessImage({ ...decode(6), orientation: 1 }, spec), upright)).toBeGreaterThan(10);
    }
  });

  it('truncated files are refused: the corpora\u2019s own cut files, and real photos and PNGs cut at several points', () => {
    // Whole images despite the name: a cut EXIF segment (metadata), and a file that lost only EOI's last byte.
    const whole = new Set(['jpeg/pillow/truncated_exif_dpi.jpg', 'jpeg/pillow/truncated_jpeg.jpg']);
    const named = corpusFiles().filter((f) => /trunc/i.test(f) && !/decoded-by/.test(f) && !whole.has(f)); // decoded-by-*: reference decodes
    expect(named.length).toBeGreaterThanOrEqual(10);
    for (const f of whole) expect(decodeImage(read(f), DEFAULT_DECODE_LIMITS).width, f).toBeGreaterThan(0);
    const decoded: string[] = [];
    for (const f of named) {
      try {
        decodeImage(read(f), DEFAULT_DECODE_LIMITS, { for: caffePreprocess(224, 224) }); // as the Worker decodes
        decoded.push(f);
      } catch (e) {
        expect(isImageError(e) && ['truncated_image', 'corrupt_image'].includes(e.code), `${f}: ${String(e)}`).toBe(true);
      }
    }
    expect(decoded).toEqual([]);
    const complete = ['jpeg/dropbox-lepton/androidprogressive.jpg', 'jpeg/jpeg-js/fixtures/redbox-with-rst.jpg', 'photos/debian-python3-skimage/chelsea.png', 'png-extra/wuffs/harvesters.png', 'pngsuite/basi2c08.png'];
    for (const f of complete) {
      const bytes = read(f);
      for (const [label, options] of [['full', {}], ['1/8', { for: caffePreprocess(32, 32) }]] as const) {
        for (const fraction of [0.2, 0.6, 0.9]) {
          const cut = Math.floor(bytes.length * fraction);
          let code = 'decoded';
          try {
            decodeImage(bytes.subarray(0, cut), DEFAULT_DECODE_LIMITS, options);
          } catch (e) {
            code = isImageError(e) ? e.code : String(e);
          }
          expect(code, `${f} cut at ${cut} (${label})`).toBe('truncated_image');
        }
      }
    }
  });

  it('a file with restart intervals cut just before an RSTn marker is refused (jpeg-js alone decodes it, the rest blank)', () => {
    for (const f of ['jpeg/dropbox-lepton/narrowrst.jpg', 'jpeg/jpeg-js/fixtures/redbox-with-rst.jpg']) {
      const bytes = read(f);
      let at = Math.floor(bytes.length * 0.5);
      while (!(bytes[at] === 0xff && bytes[at + 1]! >= 0xd0 && bytes[at + 1]! <= 0xd7)) at++;
      for (const [label, options] of [['full', {}], ['1/8', { for: caffePreprocess(16, 16) }]] as const) {
        let code = 'decoded';
        try {
          decodeImage(bytes.subarray(0, at), DEFAULT_DECODE_LIMITS, options);
        } catch (e) {
          code = isImageError(e) ? e.code : String(e);
        }
        expect(code, `${f} cut at RST ${at} (${label})`).toBe('truncated_image');
      }
    }
  });

  it('PngSuite: every valid file inflates to the length its IHDR implies (what a cut PNG is checked against)', () => {
    const files = corpusFiles(join(CORPORA_DIR, 'pngsuite')).filter((f) => /^[^x].*\.png$/.test(f));
    expect(files.length).toBeGreaterThan(150);
    const wrong = files.filter((f) => {
      const bytes = read(join('pngsuite', f));
      return inflatedImageBytes(bytes, verifyPngChunks(bytes)) !== filteredImageBytes(readPngHeader(bytes));
    });
    expect(wrong).toEqual([]);
  });

  it('tolerates trailing bytes after EOI and IEND', () => {
    const jpeg = read('jpeg/exif-orientation-examples/Landscape_1.jpg');
    const png = read('pngsuite/basn2c08.png');
    for (const bytes of [jpeg, png]) {
      const padded = new Uint8Array(bytes.length + 1000).fill(0x5a);
      padded.set(bytes);
      const a = decodeImage(bytes, { maxPixels: 64e6 });
      const b = decodeImage(padded, { maxPixels: 64e6 });
      expect([b.width, b.height]).toEqual([a.width, a.height]);
      expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
    }
  });
});
