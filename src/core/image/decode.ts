/** @module decodeImage: bytes → RGB(A) pixels, refusing by the header what the memory budget cannot hold. */
import jpeg from 'jpeg-js';
import UPNG from 'upng-js';
import { ImageError, ImageErrorCode, isImageError } from './errors.js';
import type { PreprocessSpec } from '../preprocess-spec.js';
import { scaleSuffices } from '../preprocess.js';
import { estimateDecodeBytes, estimateEighthScaleBytes } from './footprint.js';
import { readImageHeader, type JpegHeader, type PngHeader } from './header.js';
import { decodeJpegAtEighth } from './jpeg-dc.js';
import { readJpegEnd, withEoi, type JpegEnd } from './jpeg-end.js';
import { verifyPngChunks, withIend } from './png-chunks.js';
import { filteredImageBytes, inflatedImageBytes } from './png-data.js';
import type { DecodedImage, MissingData } from './types.js';

export interface DecodeLimits {
  /** Largest width×height accepted; checked against the header before decoding. */
  maxPixels: number;
  /** Largest memory the decode may take (estimated from the header); absent: no byte budget. */
  maxDecodeBytes?: number;
}

/**
 * 46 MB to decode: beside the int8 ResNet50 session (57.6 MB of wasm heap with prepacking and the pre-optimised
 * external-data form; up to 85 MB for a model file with its weights inline, which needs a smaller MAX_DECODE_MB)
 * and the isolate's ~7 MB JS baseline that stays under 128 MB (a full decode of a 1920×1080 4:2:0 JPEG takes ~44 MB in jpeg-js;
 * a 12 MP JPEG decoded at 1/8 for a 224 px model, ~1 MB). 50 MP bounds the work of any decode.
 */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxPixels: 50_000_000, maxDecodeBytes: 46 * 2 ** 20 };

/**
 * What jpeg-js's own accounting needs for the largest accepted JPEG: an Int32Array(64) per 8×8 block of every
 * component (4 B/px each, 12 B/px at 4:4:4), a line buffer per component (1 B/px each), the RGB output
 * (3 B/px) and its 8-bit component planes: ~20 B/px at 4:4:4 (measured: bench/decode-footprint.ts). Its
 * default (512 MB) is 4× the isolate; this is the budget for what MAX_IMAGE_PIXELS admits, not a default.
 */
export const jpegJsBudgetMB = (maxPixels: number) => Math.ceil((maxPixels * 22) / 2 ** 20) + 4;

/** SOF0 baseline, SOF1 extended sequential and SOF2 progressive, all 8-bit Huffman: what jpeg-js decodes right. */
const DECODABLE_SOF = new Set([0xc0, 0xc1, 0xc2]);
const PROGRESSIVE = 0xc2;

const truncated = (message: string) => new ImageError(ImageErrorCode.truncated, message);
const percent = (fraction: number) => `${Math.max(fraction > 0 ? 1 : 0, Math.round(fraction * 100))} %`;

/** What a partial JPEG decode lacked: `fraction` of the scan the data stops in. */
function jpegMissing(fraction: number, progressive: boolean): MissingData {
  const later = progressive ? '; the scans after it (finer detail) are missing too' : '';
  return { fraction, detail: `JPEG: the file ends before its last block; ${percent(fraction)} of the blocks of the scan it stops in are missing (decoded as grey)${later}` };
}

/**
 * Refuses a JPEG that cannot be whole from its structure alone; returns where it ends. A missing EOI is the only
 * loss tolerated, once a decoder has shown that every block of every scan present was there.
 */
function checkJpegEnd(bytes: Uint8Array, header: JpegHeader): JpegEnd {
  const end = readJpegEnd(bytes);
  if (!end.everyComponentScanned) {
    if (!end.eoi) throw truncated('JPEG: the file ends before the scans of all its colour components');
    throw new ImageError(ImageErrorCode.corrupt, 'JPEG: a colour component has no scan');
  }
  return end;
}

function decodeJpeg(bytes: Uint8Array, header: JpegHeader, limits: DecodeLimits, end: JpegEnd, allowPartial: boolean): DecodedImage {
  if (!DECODABLE_SOF.has(header.sof) || header.precision !== 8) {
    // jpeg-js turns 12-bit JPEGs into wrong pixels without an error, so refuse them up front.
    throw new ImageError(
      ImageErrorCode.unsupportedVariant,
      `JPEG variant not supported (frame marker 0xff${header.sof.toString(16)}, ${header.precision}-bit)`,
    );
  }
  const options = {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: limits.maxPixels / 1e6,
    maxMemoryUsageInMB: jpegJsBudgetMB(limits.maxPixels),
  } as const;
  let decoded: { width: number; height: number; data: Uint8Array };
  let missing: MissingData | undefined;
  if (end.eoi) decoded = jpeg.decode(bytes, options);
  else {
    // jpeg-js refuses any file without EOI. Given one back, our patch to it (patches/jpeg-js+0.4.4.patch) reports
    // a scan whose data stops before its last MCU, where it would have thrown or kept the rest silently blank.
    const cut = (decodedMcus: number, expectedMcus: number) => {
      const fraction = (expectedMcus - decodedMcus) / expectedMcus;
      if (!allowPartial) throw truncated(`JPEG: the image data ends before its last block (${percent(fraction)} of a scan's blocks are missing)`);
      if (!missing || fraction > missing.fraction) missing = jpegMissing(fraction, header.sof === PROGRESSIVE);
    };
    try {
      decoded = jpeg.decode(withEoi(bytes, end), { ...options, onIncompleteScan: cut } as typeof options);
    } catch (e) {
      if (isImageError(e)) throw e;
      throw truncated(`JPEG: the image data ends before its last block (${e instanceof Error ? e.message.slice(0, 120) : String(e)})`);
    }
  }
  return { width: decoded.width, height: decoded.height, channels: 3, data: decoded.data, orientation: header.orientation, ...(missing ? { missing } : {}) };
}

function decodePng(bytes: Uint8Array, header: PngHeader, allowPartial: boolean): DecodedImage {
  const chunks = verifyPngChunks(bytes, { allowCut: allowPartial });
  let missing: MissingData | undefined;
  if (!chunks.iend) {
    // Lost its end: decoded only when every row is still there (upng-js leaves missing rows black), or when asked to.
    const [have, need] = [inflatedImageBytes(bytes, chunks), filteredImageBytes(header)];
    if (have < 0 || (have < need && !allowPartial)) throw new ImageError(ImageErrorCode.truncated, `PNG: the image data ends early (${have < 0 ? 'a broken stream' : `${Math.round((100 * have) / need)} % of it is there`})`);
    if (have < need) {
      const fraction = (need - have) / need;
      missing = { fraction, detail: `PNG: the image data ends early; ${percent(fraction)} of it is missing (decoded as black)` };
    }
  }
  const whole = chunks.iend ? bytes : withIend(bytes, chunks);
  const buffer = whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.byteLength) as ArrayBuffer;
  const png = UPNG.decode(buffer);
  if (png.width !== header.width || png.height !== header.height) throw new ImageError(ImageErrorCode.corrupt, 'PNG: decoder and header disagree on the size');
  const rgba = new Uint8Array(UPNG.toRGBA8(png)[0]);
  if (rgba.length !== png.width * png.height * 4) throw new ImageError(ImageErrorCode.corrupt, 'PNG: image data is incomplete');
  return { width: png.width, height: png.height, channels: 4, data: rgba, orientation: 1, ...(missing ? { missing } : {}) };
}

export interface DecodeOptions {
  /**
   * The preprocessing the pixels are for. A JPEG at least 8× larger than what it reads is decoded at 1/8
   * scale in the DCT domain (jpeg-dc.ts): same area average, a fraction of the time and memory.
   */
  for?: PreprocessSpec;
  /**
   * Decode a cut file as far as its data goes instead of refusing it (`truncated_image`): the missing part is
   * grey (JPEG) or black (PNG), and the image's `missing` says how much that was. A file cut before its image
   * data starts, or inside a header, is still refused.
   */
  allowPartial?: boolean;
}

/** 8-bit Huffman JPEGs with 1 or 3 components, large enough for the spec at 1/8 scale. */
function eighthScaleApplies(header: JpegHeader, spec: PreprocessSpec | undefined): spec is PreprocessSpec {
  return spec !== undefined && DECODABLE_SOF.has(header.sof) && header.precision === 8 && (header.components.length === 1 || header.components.length === 3) && scaleSuffices(spec, header.width, header.height, header.orientation, 8);
}

/** What decoding this image for `spec` will hold at its peak (the figure the budget is checked against). */
export function decodeBytesFor(header: JpegHeader | PngHeader, spec?: PreprocessSpec): number {
  return header.format === 'jpeg' && eighthScaleApplies(header, spec) ? estimateEighthScaleBytes(header) : estimateDecodeBytes(header);
}

/**
 * Decodes a JPEG or PNG (format from magic bytes). Throws only `ImageError`: the codecs' own exceptions
 * (including their TypeErrors on malformed input) become `corrupt_image`.
 */
export function decodeImage(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS, options: DecodeOptions = {}): DecodedImage {
  const header = readImageHeader(bytes);
  const pixels = header.width * header.height;
  if (pixels > limits.maxPixels) {
    throw new ImageError(ImageErrorCode.tooLarge, `image is ${header.width}×${header.height} (${pixels} pixels); the limit is ${limits.maxPixels}`);
  }
  const atEighth = header.format === 'jpeg' && eighthScaleApplies(header, options.for);
  const needed = decodeBytesFor(header, options.for);
  const mb = (n: number) => (n / 2 ** 20).toFixed(0);
  const budgetFits = (n: number) => limits.maxDecodeBytes === undefined || n <= limits.maxDecodeBytes;
  if (!budgetFits(needed)) {
    throw new ImageError(ImageErrorCode.tooLarge, `decoding this ${header.width}×${header.height} image needs about ${mb(needed)} MB; the budget is ${mb(limits.maxDecodeBytes!)} MB (send it smaller)`);
  }
  try {
    const allowPartial = options.allowPartial ?? false;
    if (header.format === 'png') return decodePng(bytes, header, allowPartial);
    const end = checkJpegEnd(bytes, header);
    if (atEighth) {
      // The 1/8 path skips a progressive file's AC scans, so it cannot see one cut inside them: jpeg-js can.
      const unchecked = !end.eoi && header.sof === PROGRESSIVE;
      const small = unchecked ? null : decodeJpegAtEighth(bytes, { allowPartial });
      if (small) {
        const { missing, ...image } = small;
        return { ...image, channels: 3, orientation: header.orientation, ...(missing ? { missing: jpegMissing(missing, false) } : {}) };
      }
      // A file the 1/8 path leaves to jpeg-js: only if the full decode fits the budget too.
      const full = estimateDecodeBytes(header);
      if (!budgetFits(full) && unchecked) throw truncated(`JPEG: a progressive file without its end marker, too large (${header.width}×${header.height}) to check every scan at full size`);
      if (!budgetFits(full)) throw new ImageError(ImageErrorCode.tooLarge, `decoding this ${header.width}×${header.height} image needs about ${mb(full)} MB; the budget is ${mb(limits.maxDecodeBytes!)} MB (send it smaller)`);
    }
    return decodeJpeg(bytes, header, limits, end, allowPartial);
  } catch (e) {
    if (isImageError(e)) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new ImageError(ImageErrorCode.corrupt, `${header.format.toUpperCase()} could not be decoded: ${reason.slice(0, 200)}`);
  }
}
