/**
 * @module decodeJpegAtEighth: a JPEG decoded at 1/8 scale in the DCT domain. An 8×8 block's DC coefficient is
 * its mean (DC / 8 + 128 after dequantisation), so a ⌈W/8⌉×⌈H/8⌉ image comes out of the entropy decoder
 * alone: no IDCT, no full-resolution plane is ever allocated, AC coefficients are parsed and dropped (and a
 * progressive file's AC scans are skipped unread). Used when the model's input is at most 1/8 of the photo,
 * e.g. a 12 MP photo for a 224 px model: ~1 MB of working memory instead of ~250 MB in jpeg-js.
 * Baseline, extended and progressive 8-bit Huffman JPEGs with 1 or 3 components (YCbCr, or RGB per Adobe);
 * anything else is left to the full decoder (`null`).
 */
import { ImageError, ImageErrorCode } from './errors.js';

export interface EighthScaleImage {
  width: number;
  height: number;
  /** Interleaved 8-bit RGB. */
  data: Uint8Array;
  /**
   * Only with `allowPartial`: the share of a scan's blocks the file did not hold (the scan it stops in; 0 when
   * every DC scan is whole). Blocks past the cut are mid-grey.
   */
  missing?: number;
}

interface Huffman {
  /** (length << 8 | symbol) for every 9-bit prefix whose code is ≤ 9 bits; 0 when longer. */
  lookup: Uint16Array;
  maxCode: Int32Array;
  valueOffset: Int32Array;
  symbols: Uint8Array;
}

interface Component {
  id: number;
  h: number;
  v: number;
  quantTable: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Quantised DC coefficient of every block (progressive: built up over the DC scans); dequantised at the end. */
  dc: Int32Array;
  predictor: number;
  dcTable?: Huffman;
  acTable?: Huffman;
}

const LOOKUP_BITS = 9;
const corrupt = (message: string) => new ImageError(ImageErrorCode.corrupt, `JPEG: ${message}`);

function buildHuffman(counts: Uint8Array, symbols: Uint8Array): Huffman {
  const lookup = new Uint16Array(1 << LOOKUP_BITS);
  const maxCode = new Int32Array(18).fill(-1);
  const valueOffset = new Int32Array(18);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1]!;
    valueOffset[length] = k - code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (length <= LOOKUP_BITS) {
        const shift = LOOKUP_BITS - length;
        for (let fill = code << shift, end = (code + 1) << shift; fill < end; fill++) lookup[fill] = (length << 8) | symbols[k]!;
      }
    }
    if (n > 0) maxCode[length] = code - 1;
    if (code > 1 << length) throw corrupt('invalid Huffman table');
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff;
  return { lookup, maxCode, valueOffset, symbols };
}

/** MSB-first bit reader over entropy-coded data: undoes 0xFF00 stuffing, stops (feeding zeros) at a marker. */
class BitReader {
  pos: number;
  private buffer = 0;
  private count = 0;
  /** A marker was reached: the data of this interval ended. */
  hitMarker = false;
  /** Zero bits fed past the end of the data (at a marker or the end of the file), consumed or not. */
  private padding = 0;
  constructor(readonly bytes: Uint8Array, start: number) {
    this.pos = start;
  }
  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      if (!this.hitMarker && this.pos < this.bytes.length) {
        byte = this.bytes[this.pos]!;
        if (byte === 0xff) {
          const next = this.bytes[this.pos + 1];
          if (next === 0x00) this.pos += 2;
          else {
            this.hitMarker = true;
            byte = 0;
          }
        } else this.pos++;
      } else this.hitMarker = true;
      if (this.hitMarker) this.padding += 8;
      this.buffer = (this.buffer << 8) | byte;
      this.count += 8;
    }
  }
  bits(n: number): number {
    if (n === 0) return 0;
    if (this.count < n) this.fill();
    this.count -= n;
    return (this.buffer >>> this.count) & ((1 << n) - 1);
  }
  bit(): number {
    return this.bits(1);
  }
  decode(table: Huffman): number {
    if (this.count < 16) this.fill();
    const peek = (this.buffer >>> (this.count - LOOKUP_BITS)) & ((1 << LOOKUP_BITS) - 1);
    const entry = table.lookup[peek]!;
    if (entry !== 0) {
      this.count -= entry >> 8;
      return entry & 0xff;
    }
    for (let length = LOOKUP_BITS + 1; length <= 16; length++) {
      const code = (this.buffer >>> (this.count - length)) & ((1 << length) - 1);
      if (code <= table.maxCode[length]!) {
        this.count -= length;
        return table.symbols[table.valueOffset[length]! + code]!;
      }
    }
    throw corrupt('bad Huffman code');
  }
  /** The next s bits as a signed value (the JPEG EXTEND procedure). */
  receiveExtend(s: number): number {
    if (s === 0) return 0;
    const v = this.bits(s);
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }
  /** Whether decoding used bits that are not in the data: the stretch ended before its last block. */
  overran(): boolean {
    return this.padding > this.count;
  }
  /** Drops buffered bits and moves to the marker that ends this stretch of data. */
  toMarker(): number {
    this.buffer = 0;
    this.count = 0;
    this.hitMarker = false;
    this.padding = 0;
    let p = this.pos;
    while (p + 1 < this.bytes.length && !(this.bytes[p] === 0xff && this.bytes[p + 1] !== 0x00 && this.bytes[p + 1] !== 0xff)) p++;
    this.pos = p;
    return p;
  }
}

/** Skips an 8×8 block's AC coefficients in a sequential scan (they are parsed, never stored). */
function skipAc(reader: BitReader, table: Huffman): void {
  for (let k = 1; k < 64; ) {
    const rs = reader.decode(table);
    const s = rs & 15;
    const r = rs >> 4;
    if (s === 0) {
      if (r !== 15) return; // end of block
      k += 16;
      continue;
    }
    reader.bits(s);
    k += r + 1;
  }
}

/**
 * Decodes at 1/8 scale, or returns null for what this path does not cover (the caller then decodes fully):
 * arithmetic coding, 12-bit samples, 2 or 4 components (CMYK/YCCK).
 */
export function decodeJpegAtEighth(bytes: Uint8Array, { allowPartial = false } = {}): EighthScaleImage | null {
  const quantDc = new Int32Array(4);
  const dcTables: Array<Huffman | undefined> = [];
  const acTables: Array<Huffman | undefined> = [];
  let components: Component[] = [];
  let width = 0;
  let height = 0;
  let progressive = false;
  let hMax = 1;
  let vMax = 1;
  let mcusPerLine = 0;
  let mcusPerColumn = 0;
  let restartInterval = 0;
  let adobeTransform = -1;
  let sawFrame = false;
  let sawScan = false;
  let missing = 0;
  let pos = 2;
  const u16 = (p: number) => (bytes[p]! << 8) | bytes[p + 1]!;

  while (pos + 1 < bytes.length) {
    if (bytes[pos] !== 0xff) {
      pos++;
      continue; // tolerate garbage between segments, as libjpeg does
    }
    const marker = bytes[pos + 1]!;
    if (marker === 0xff || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd8) || marker === 0x01) {
      pos += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === 0xd9) break;
    if (pos + 4 > bytes.length) break;
    const length = u16(pos + 2);
    const start = pos + 4;
    const end = pos + 2 + length;
    if (length < 2) throw corrupt(`segment 0xff${marker.toString(16)} has a bad length ${length}`);
    if (end > bytes.length) throw new ImageError(ImageErrorCode.truncated, `JPEG: the file ends inside segment 0xff${marker.toString(16)}`);
    switch (marker) {
      case 0xdb: {
        for (let p = start; p < end; ) {
          const precision = bytes[p]! >> 4;
          const id = bytes[p]! & 15;
          if (id > 3) throw corrupt('quantisation table id > 3');
          quantDc[id] = precision ? u16(p + 1) : bytes[p + 1]!; // the DC entry comes first (zig-zag order)
          p += 1 + (precision ? 128 : 64);
        }
        break;
      }
      case 0xc4: {
        for (let p = start; p < end; ) {
          const cls = bytes[p]! >> 4;
          const id = bytes[p]! & 15;
          const counts = bytes.subarray(p + 1, p + 17);
          const total = counts.reduce((a, b) => a + b, 0);
          const table = buildHuffman(counts, bytes.subarray(p + 17, p + 17 + total));
          (cls === 0 ? dcTables : acTables)[id] = table;
          p += 17 + total;
        }
        break;
      }
      case 0xc0:
      case 0xc1:
      case 0xc2: {
        if (bytes[start] !== 8) return null;
        progressive = marker === 0xc2;
        height = u16(start + 1);
        width = u16(start + 3);
        const count = bytes[start + 5]!;
        if (count !== 1 && count !== 3) return null;
        if (width === 0 || height === 0) return null; // DNL-defined height: leave it to the full decoder
        components = Array.from({ length: count }, (_, i) => {
          const b = start + 6 + i * 3;
          return { id: bytes[b]!, h: bytes[b + 1]! >> 4, v: bytes[b + 1]! & 15, quantTable: bytes[b + 2]! & 3, blocksPerLine: 0, blocksPerColumn: 0, dc: new Int32Array(0), predictor: 0 };
        });
        hMax = Math.max(...components.map((c) => c.h));
        vMax = Math.max(...components.map((c) => c.v));
        if (components.some((c) => c.h < 1 || c.v < 1 || c.h > 4 || c.v > 4)) throw corrupt('sampling factors outside 1–4');
        mcusPerLine = Math.ceil(width / (8 * hMax));
        mcusPerColumn = Math.ceil(height / (8 * vMax));
        for (const c of components) {
          c.blocksPerLine = mcusPerLine * c.h;
          c.blocksPerColumn = mcusPerColumn * c.v;
          c.dc = new Int32Array(c.blocksPerLine * c.blocksPerColumn);
        }
        sawFrame = true;
        break;
      }
      case 0xdd:
        restartInterval = u16(start);
        break;
      case 0xee:
        if (length >= 14 && String.fromCharCode(...bytes.subarray(start, start + 5)) === 'Adobe') adobeTransform = bytes[start + 11]!;
        break;
      case 0xda: {
        if (!sawFrame) throw corrupt('scan before the frame header');
        const count = bytes[start]!;
        const scan: Component[] = [];
        for (let i = 0; i < count; i++) {
          const c = components.find((x) => x.id === bytes[start + 1 + i * 2]);
          if (!c) throw corrupt('scan names an unknown component');
          c.dcTable = dcTables[bytes[start + 2 + i * 2]! >> 4];
          c.acTable = acTables[bytes[start + 2 + i * 2]! & 15];
          scan.push(c);
        }
        const p = start + 1 + count * 2;
        const [ss, a] = [bytes[p]!, bytes[p + 2]!]; // spectral start; the end (p + 1) matters only to AC scans, skipped
        const [ah, al] = [a >> 4, a & 15];
        const reader = new BitReader(bytes, end);
        if (!progressive || ss === 0) missing = Math.max(missing, decodeScan(reader, scan, { progressive, ah, al, restartInterval, mcusPerLine, mcusPerColumn, width, height, hMax, vMax, allowPartial }));
        pos = reader.toMarker();
        sawScan = true;
        continue;
      }
      default:
        if ((marker >= 0xc3 && marker <= 0xcf) && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return null; // lossless, hierarchical, arithmetic
    }
    pos = end;
  }
  if (!sawFrame || !sawScan) throw corrupt('no image data');
  // Adobe's transform flag, else libjpeg's rule: component ids 'R', 'G', 'B' mean RGB, anything else YCbCr.
  const rgb = adobeTransform === 0 || (adobeTransform < 0 && components.map((c) => c.id).join() === '82,71,66');
  const image = toRgb(components, quantDc, width, height, hMax, vMax, rgb);
  return allowPartial ? { ...image, missing } : image;
}

interface ScanContext {
  progressive: boolean;
  ah: number;
  al: number;
  restartInterval: number;
  mcusPerLine: number;
  mcusPerColumn: number;
  width: number;
  height: number;
  hMax: number;
  vMax: number;
  /** Keep the blocks before a cut instead of refusing the file (the rest stay 0: mid-grey). */
  allowPartial: boolean;
}

/** Decodes a scan's DC coefficients; returns the share of its blocks the data did not hold (only with allowPartial). */
function decodeScan(reader: BitReader, scan: Component[], ctx: ScanContext): number {
  const refining = ctx.progressive && ctx.ah > 0;
  const decodeBlock = (c: Component, row: number, col: number) => {
    const index = row * c.blocksPerLine + col;
    if (refining) {
      if (reader.bit()) c.dc[index]! |= 1 << ctx.al;
      return;
    }
    if (!c.dcTable) throw corrupt('scan uses a missing DC Huffman table');
    const diff = reader.receiveExtend(reader.decode(c.dcTable));
    c.predictor += diff;
    c.dc[index] = ctx.progressive ? c.predictor << ctx.al : c.predictor;
    if (!ctx.progressive) {
      if (!c.acTable) throw corrupt('scan uses a missing AC Huffman table');
      skipAc(reader, c.acTable);
    }
  };
  const single = scan.length === 1;
  // A single-component scan covers only that component's own blocks (not the MCU padding).
  const c0 = scan[0]!;
  const ownCols = Math.ceil(Math.ceil((ctx.width * c0.h) / ctx.hMax) / 8);
  const ownRows = Math.ceil(Math.ceil((ctx.height * c0.v) / ctx.vMax) / 8);
  const total = single ? ownCols * ownRows : ctx.mcusPerLine * ctx.mcusPerColumn;
  const interval = ctx.restartInterval || total;
  const eachBlock = (n: number, visit: (c: Component, row: number, col: number) => void) => {
    if (single) return visit(c0, Math.floor(n / ownCols), n % ownCols);
    const mcuRow = Math.floor(n / ctx.mcusPerLine);
    const mcuCol = n % ctx.mcusPerLine;
    for (const c of scan) for (let v = 0; v < c.v; v++) for (let h = 0; h < c.h; h++) visit(c, mcuRow * c.v + v, mcuCol * c.h + h);
  };
  // We never answer from part of an image unless asked to (libjpeg would fill the rest with grey).
  const cutAt = (n: number) => {
    if (!ctx.allowPartial) throw truncated();
    return (total - n) / total;
  };
  for (const c of scan) c.predictor = 0;
  for (let n = 0; n < total; n++) {
    if (n > 0 && n % interval === 0) {
      // Restart: realign to the RSTn marker, reset the DC predictors.
      if (reader.overran()) return cutAt(n);
      const at = reader.toMarker();
      const m = reader.bytes;
      if (m[at] === 0xff && m[at + 1]! >= 0xd0 && m[at + 1]! <= 0xd7) reader.pos = at + 2;
      else return cutAt(n);
      for (const c of scan) c.predictor = 0;
    }
    eachBlock(n, decodeBlock);
    if (ctx.allowPartial && reader.overran()) {
      // This MCU was read partly from the zeros fed past the data: it is not in the file either.
      if (!refining) eachBlock(n, (c, row, col) => void (c.dc[row * c.blocksPerLine + col] = 0));
      return cutAt(n);
    }
  }
  // (With allowPartial an overrun already returned after its MCU.)
  if (reader.overran()) throw truncated();
  return 0;
}

const truncated = () => new ImageError(ImageErrorCode.truncated, 'JPEG: the image data ends before its last block (a cut or damaged file)');

function toRgb(components: Component[], quantDc: Int32Array, width: number, height: number, hMax: number, vMax: number, rgb: boolean): EighthScaleImage {
  const w = Math.ceil(width / 8);
  const h = Math.ceil(height / 8);
  const data = new Uint8Array(w * h * 3);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  // Sample planes at output resolution: a block's mean is DC·q / 8, level-shifted by 128.
  const planes = components.map((c) => {
    const q = quantDc[c.quantTable]! / 8;
    const plane = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      const by = Math.min(c.blocksPerColumn - 1, Math.floor((y * c.v) / vMax));
      for (let x = 0; x < w; x++) {
        const bx = Math.min(c.blocksPerLine - 1, Math.floor((x * c.h) / hMax));
        plane[y * w + x] = c.dc[by * c.blocksPerLine + bx]! * q + 128;
      }
    }
    return plane;
  });
  const [p0, p1, p2] = planes as [Float32Array, Float32Array?, Float32Array?];
  for (let i = 0, o = 0; i < w * h; i++, o += 3) {
    const y0 = p0[i]!;
    if (!p1 || !p2) {
      data[o] = data[o + 1] = data[o + 2] = clamp(y0);
    } else if (rgb) {
      data[o] = clamp(y0);
      data[o + 1] = clamp(p1[i]!);
      data[o + 2] = clamp(p2[i]!);
    } else {
      const cb = p1[i]! - 128;
      const cr = p2[i]! - 128;
      data[o] = clamp(y0 + 1.402 * cr);
      data[o + 1] = clamp(y0 - 0.344136 * cb - 0.714136 * cr);
      data[o + 2] = clamp(y0 + 1.772 * cb);
    }
  }
  return { width: w, height: h, data };
}
