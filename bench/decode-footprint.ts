/**
 * `node --expose-gc --import tsx bench/decode-footprint.ts`: what decoding one image allocates in V8 (the
 * same jpeg-js/upng-js code and engine as workerd), measured as the growth of heap + ArrayBuffer memory across
 * a decode with garbage collection held off. Workerd's inspector cannot sample inside a synchronous decode,
 * so this is how the request's transient peak is measured.
 */
import sharp from 'sharp';
import { decodeImage } from '../src/core/image/decode.js';
import { preprocessImage } from '../src/core/preprocess.js';
import { caffePreprocess } from '../src/core/preprocess-spec.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const MB = 2 ** 20;
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

async function image(width: number, height: number, format: 'jpeg420' | 'jpeg444' | 'png') {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><filter id="n"><feTurbulence type="fractalNoise" baseFrequency="0.05" numOctaves="4"/></filter></defs><rect width="100%" height="100%" fill="#3a6"/><rect width="100%" height="100%" filter="url(#n)"/></svg>`;
  const s = sharp(Buffer.from(svg)).flatten({ background: '#fff' });
  const out = format === 'png' ? s.png() : s.jpeg({ quality: 90, chromaSubsampling: format === 'jpeg444' ? '4:4:4' : '4:2:0' });
  return new Uint8Array(await out.toBuffer());
}

const rows: Record<string, unknown>[] = [];
for (const [w, h] of [[224, 224], [1920, 1080]] as const) {
  for (const format of ['jpeg420', 'jpeg444', 'png'] as const) {
    const bytes = await image(w, h, format);
    gc();
    const before = used();
    let peak = 0;
    const decoded = decodeImage(bytes, { maxPixels: 2_100_000 });
    peak = used() - before;
    const tensor = preprocessImage(decoded, caffePreprocess(224, 224));
    const afterTensor = used() - before;
    rows.push({ image: `${w}×${h} ${format}`, file_kb: +(bytes.byteLength / 1024).toFixed(0), decode_alloc_mb: +(peak / MB).toFixed(1), with_tensor_mb: +(afterTensor / MB).toFixed(1), decoded_mb: +(decoded.data.byteLength / MB).toFixed(1), tensor_kb: tensor.byteLength / 1024 });
  }
}
console.table(rows);
