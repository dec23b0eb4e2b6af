/**
 * @module A QDQ model, written as our quantizer writes them (uint8 activations, int8 per-channel weights), whose
 * u8×s8 pair sums overflow int16: it shows whether an onnxruntime build adds products exactly (int32) or, as
 * x86 U8S8 kernels without VNNI do with `vpmaddubsw`, saturates each pair sum at 32,767.
 */
import { encodeModel, model, node, tensor, valueInfo } from './proto.js';

export const PROBE_CHANNELS = 64;
export const PROBE_DIMS = [1, PROBE_CHANNELS, 2, 2];

/**
 * x [1, C, 2, 2] → Q/DQ (scale 1, zero point 0: x's values are its uint8 codes) → Conv 1×1 with int8 weights `w`
 * (scale 1) → Q/DQ with output scale `outScale` → y. ORT fuses it into one QLinearConv.
 */
export function qdqConv1x1(w: Int8Array, outScale: number): Uint8Array {
  const f = (name: string, v: number) => tensor(name, [], Float32Array.of(v));
  const u8 = (name: string, v: number) => tensor(name, [], Uint8Array.of(v));
  return encodeModel(
    model({
      name: 'qdq-conv-1x1',
      input: [valueInfo('x', PROBE_DIMS)],
      output: [valueInfo('y', [1, 1, 2, 2])],
      initializer: [
        f('one', 1), u8('zero', 0), f('out_scale', outScale),
        tensor('w', [1, w.length, 1, 1], w), tensor('w_scale', [1], Float32Array.of(1)), tensor('w_zero', [1], Int8Array.of(0)),
      ],
      node: [
        node('QuantizeLinear', ['x', 'one', 'zero'], ['xq'], 'xq'),
        node('DequantizeLinear', ['xq', 'one', 'zero'], ['xd'], 'xd'),
        node('DequantizeLinear', ['w', 'w_scale', 'w_zero'], ['wd'], 'wd', { axis: 0 }),
        node('Conv', ['xd', 'wd'], ['c'], 'conv'),
        node('QuantizeLinear', ['c', 'out_scale', 'zero'], ['cq'], 'cq'),
        node('DequantizeLinear', ['cq', 'out_scale', 'zero'], ['y'], 'y'),
      ],
    }),
  );
}

/** Σ x·w in int32 (exact), and the same sum with each adjacent pair of products saturated to int16. */
export function pairwiseDot(x: Uint8Array, w: Int8Array): { exact: number; pairSaturated: number } {
  let exact = 0;
  let pairSaturated = 0;
  for (let k = 0; k < x.length; k += 2) {
    const pair = x[k]! * w[k]! + (x[k + 1] ?? 0) * (w[k + 1] ?? 0);
    exact += pair;
    pairSaturated += Math.max(-32768, Math.min(32767, pair));
  }
  return { exact, pairSaturated };
}

/** The NCHW input whose every pixel holds `codes` along the channels. */
export const probeInput = (codes: Uint8Array): Float32Array => Float32Array.from({ length: codes.length * 4 }, (_, i) => codes[Math.floor(i / 4)]!);

/**
 * The probe: every code 255, every weight 127. The exact sum 255·127·64 = 2,072,640 is output code 255; the
 * pair-saturated one, 32,767·32, is code 129.
 */
export function saturationProbe() {
  const codes = new Uint8Array(PROBE_CHANNELS).fill(255);
  const w = new Int8Array(PROBE_CHANNELS).fill(127);
  const { exact, pairSaturated } = pairwiseDot(codes, w);
  const outScale = Math.fround(exact / 255);
  return {
    model: qdqConv1x1(w, outScale),
    input: probeInput(codes),
    exact,
    pairSaturated,
    exactCode: 255,
    saturatedCode: Math.round(pairSaturated / outScale),
    codeOf: (y: ArrayLike<number>) => Math.round(y[0]! / outScale),
  };
}
