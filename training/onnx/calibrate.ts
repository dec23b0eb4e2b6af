/**
 * @module Activation ranges for static quantization: run the float graph on calibration inputs with every
 * activation exposed, then pick each tensor's range by min/max, a percentile, or minimal KL divergence.
 */
import { createNodeSession } from '../ort/node.js';
import { DataType, encodeModel, onnx, type ModelProto } from './proto.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface TensorRange {
  min: number;
  max: number;
}

const BINS = 2048;

interface TensorStats {
  min: number;
  max: number;
  /** Histogram of |x| over [0, absMax], filled in the second pass. */
  histogram: Float64Array;
}

/** Every tensor a node produces, plus the graph inputs: what can be quantized. */
export function activationNames(m: ModelProto): string[] {
  const initializers = new Set((m.graph!.initializer ?? []).map((t) => t.name!));
  const names = (m.graph!.input ?? []).map((i) => i.name!).filter((n) => !initializers.has(n));
  for (const n of m.graph!.node ?? []) names.push(...(n.output ?? []).filter(Boolean));
  return [...new Set(names)];
}

/** A copy of the model whose outputs are all the given tensors (float, shape left to the runtime). */
function exposeTensors(m: ModelProto, names: string[]): Uint8Array {
  const copy = onnx.ModelProto.decode(encodeModel(m));
  const existing = new Set((copy.graph!.output ?? []).map((o) => o.name));
  for (const name of names) if (!existing.has(name)) copy.graph!.output!.push({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
  return encodeModel(copy);
}

/** The threshold on |x| that minimises KL(P‖Q) when the histogram is squeezed into `levels` bins (TensorRT's method). */
export function entropyThreshold(histogram: Float64Array, binWidth: number, levels: number): number {
  const n = histogram.length;
  let best = n;
  let bestKl = Infinity;
  for (let i = levels; i <= n; i += 8) {
    const p = histogram.slice(0, i);
    let outliers = 0;
    for (let k = i; k < n; k++) outliers += histogram[k];
    p[i - 1] += outliers;
    const q = new Float64Array(i);
    const chunk = i / levels;
    for (let j = 0; j < levels; j++) {
      const start = Math.floor(j * chunk);
      const end = j === levels - 1 ? i : Math.floor((j + 1) * chunk);
      let total = 0;
      let nonzero = 0;
      for (let k = start; k < end; k++) {
        total += histogram[k];
        if (histogram[k] > 0) nonzero++;
      }
      for (let k = start; k < end; k++) if (histogram[k] > 0) q[k] = total / nonzero;
    }
    let pSum = 0;
    let qSum = 0;
    for (let k = 0; k < i; k++) {
      pSum += p[k];
      qSum += q[k];
    }
    if (pSum === 0 || qSum === 0) continue;
    let kl = 0;
    for (let k = 0; k < i; k++) {
      if (p[k] === 0) continue;
      const pk = p[k] / pSum;
      const qk = q[k] > 0 ? q[k] / qSum : 1e-12;
      kl += pk * Math.log(pk / qk);
    }
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return (best + 0.5) * binWidth;
}

function percentileThreshold(histogram: Float64Array, binWidth: number, percentile: number): number {
  let total = 0;
  for (const h of histogram) total += h;
  const target = (total * percentile) / 100;
  let acc = 0;
  for (let k = 0; k < histogram.length; k++) {
    acc += histogram[k];
    if (acc >= target) return (k + 1) * binWidth;
  }
  return histogram.length * binWidth;
}

export interface CalibrationOptions {
  method: CalibrationMethod;
  /** For `percentile`: the share of |x| values kept inside the range (default 99.99). */
  percentile?: number;
}

/**
 * Ranges for `names` over the calibration batches (NCHW float32, `dims` each). Ranges always contain 0
 * (uint8 zero points must be exact).
 */
export async function calibrate(m: ModelProto, names: string[], inputs: Float32Array[], dims: number[], options: CalibrationOptions): Promise<Map<string, TensorRange>> {
  if (inputs.length === 0) throw new Error('calibration needs at least one input');
  const session = await createNodeSession(exposeTensors(m, names), { optimize: false });
  const stats = new Map<string, TensorStats>(names.map((n) => [n, { min: Infinity, max: -Infinity, histogram: new Float64Array(BINS) }]));
  try {
    for (const input of inputs) {
      const out = await session.run(input, dims, names);
      for (const name of names) {
        const s = stats.get(name)!;
        for (const v of out[name].data) {
          if (v < s.min) s.min = v;
          if (v > s.max) s.max = v;
        }
      }
    }
    if (options.method !== 'minmax') {
      for (const input of inputs) {
        const out = await session.run(input, dims, names);
        for (const name of names) {
          const s = stats.get(name)!;
          const absMax = Math.max(Math.abs(s.min), Math.abs(s.max)) || 1;
          const scale = BINS / absMax;
          for (const v of out[name].data) s.histogram[Math.min(Math.floor(Math.abs(v) * scale), BINS - 1)]++;
        }
      }
    }
  } finally {
    await session.release();
  }
  const ranges = new Map<string, TensorRange>();
  for (const [name, s] of stats) {
    let { min, max } = s;
    if (options.method !== 'minmax') {
      const binWidth = (Math.max(Math.abs(min), Math.abs(max)) || 1) / BINS;
      const signed = min < 0;
      const t = options.method === 'percentile' ? percentileThreshold(s.histogram, binWidth, options.percentile ?? 99.99) : entropyThreshold(s.histogram, binWidth, signed ? 128 : 255);
      min = Math.max(min, -t);
      max = Math.min(max, t);
    }
    ranges.set(name, { min: Math.min(min, 0), max: Math.max(max, 0) });
  }
  return ranges;
}
