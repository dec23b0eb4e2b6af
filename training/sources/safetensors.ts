/**
 * @module The safetensors format (huggingface/safetensors, safetensors/src/tensor.rs): an unsigned little-endian
 * u64 N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`, then the
 * packed little-endian data, offsets relative to its start. F32, F16 and BF16 are read as float32.
 */
import { SourceError } from './graph.js';
import type { WeightArray } from './layer-weights.js';

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1, I8: 1, BOOL: 1 };

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Every tensor of the file (float tensors as float32; integer ones, such as BN's `num_batches_tracked`, skipped). */
export function readSafetensors(bytes: Uint8Array, file: string): Map<string, WeightArray> {
  if (bytes.length < 8) throw new SourceError(`${file}: ${bytes.length} bytes; not a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > 100 * 2 ** 20 || 8 + headerLength > bytes.length) throw new SourceError(`${file}: its header claims ${headerLength} bytes of ${bytes.length}: not a safetensors file, or cut short`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new SourceError(`${file}: its header is not JSON`);
  }
  const data = bytes.subarray(8 + headerLength);
  const tensors = new Map<string, WeightArray>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets;
    const count = info.shape.reduce((a, b) => a * b, 1);
    if (!(info.dtype in BYTES) || end - begin !== count * BYTES[info.dtype]! || end > data.length) {
      throw new SourceError(`${file}: tensor "${name}" (${info.dtype} ${JSON.stringify(info.shape)}) does not fit its offsets ${begin}–${end} of ${data.length} data bytes${end > data.length ? ': the file is cut short' : ''}`);
    }
    if (!['F32', 'F16', 'BF16'].includes(info.dtype)) continue;
    const raw = new DataView(data.buffer, data.byteOffset + begin, end - begin);
    const values = new Float32Array(count);
    if (info.dtype === 'F32') for (let i = 0; i < count; i++) values[i] = raw.getFloat32(i * 4, true);
    else if (info.dtype === 'F16') for (let i = 0; i < count; i++) values[i] = halfToFloat(raw.getUint16(i * 2, true));
    else for (let i = 0; i < count; i++) values[i] = new Float32Array(new Uint32Array([raw.getUint16(i * 2, true) << 16]).buffer)[0]!;
    tensors.set(name, { shape: info.shape, data: values });
  }
  return tensors;
}
