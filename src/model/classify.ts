/** @module The request's data path: bytes → decoded pixels → tensor → session → ranked labels. */
import { argmax, softmax, topK, type Ranked } from '../core/classify.js';
import { decodeImage, type DecodeLimits } from '../core/image/decode.js';
import type { MissingData } from '../core/image/types.js';
import { preprocessImage } from '../core/preprocess.js';
import type { Manifest } from '../core/manifest.js';
import type { LoadedModel } from './registry.js';

export interface Timing {
  decode_ms: number;
  preprocess_ms: number;
  inference_ms: number;
  total_ms: number;
}

/** Said beside an answer computed from a cut image (`allowPartial`). */
export interface Warning {
  code: 'truncated_image';
  message: string;
  missing_fraction: number;
}

export interface Prediction {
  class: number;
  label: string;
  confidence: number;
  top: Ranked[];
  model: { name: string; version: string; sha256: string };
  timing: Timing;
  warnings?: Warning[];
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export interface Scored {
  scores: Float32Array;
  timing: Timing;
  /** What a partial decode lacked (only when `allowPartial` let a cut image through). */
  missing?: MissingData;
}

/** Scores every label for a model-shaped input tensor (softmax applied when the graph ends in logits). */
export async function scoreTensor(input: Float32Array, model: LoadedModel): Promise<Float32Array> {
  const { manifest, session } = model;
  const output = await session.run(input, manifest.input.shape);
  return manifest.output.kind === 'logits' ? softmax(output) : output;
}

/**
 * Scores one encoded image. Timing note: workerd advances clocks only at I/O, so the CPU-only steps
 * (decode, preprocess) can read 0 ms in production; `total_ms` and Server-Timing still bound the request.
 */
export async function scoreImage(bytes: Uint8Array, model: LoadedModel, limits: DecodeLimits, { allowPartial = false } = {}): Promise<Scored> {
  const start = performance.now();
  let decoded: ReturnType<typeof decodeImage> | null = decodeImage(bytes, limits, { for: model.manifest.preprocess, allowPartial });
  const decodedAt = performance.now();
  const missing = decoded.missing;
  const input = preprocessImage(decoded, model.manifest.preprocess);
  decoded = null; // the full-resolution pixels are not needed past this point
  const preprocessedAt = performance.now();
  const scores = await scoreTensor(input, model);
  const inferredAt = performance.now();
  return {
    scores,
    ...(missing ? { missing } : {}),
    timing: {
      decode_ms: round(decodedAt - start),
      preprocess_ms: round(preprocessedAt - decodedAt),
      inference_ms: round(inferredAt - preprocessedAt),
      total_ms: round(performance.now() - start),
    },
  };
}

/** The /predict answer for scored labels. */
export function toPrediction({ scores, timing, missing }: Scored, manifest: Manifest, k: number): Prediction {
  const best = argmax(scores);
  return {
    class: best,
    label: manifest.labels[best] ?? String(best),
    confidence: scores[best]!,
    top: topK(scores, manifest.labels, k),
    model: { name: manifest.name, version: manifest.version, sha256: manifest.sha256 },
    timing,
    ...(missing ? { warnings: [{ code: 'truncated_image' as const, message: missing.detail, missing_fraction: Math.round(missing.fraction * 1e4) / 1e4 }] } : {}),
  };
}

/** Classifies one encoded image: the whole request path of /predict. */
export async function classifyImage(bytes: Uint8Array, model: LoadedModel, limits: DecodeLimits, k: number, options: { allowPartial?: boolean } = {}): Promise<Prediction> {
  return toPrediction(await scoreImage(bytes, model, limits, options), model.manifest, k);
}

/** The same parts as a Server-Timing header value. */
export const serverTiming = (t: Timing) =>
  `decode;dur=${t.decode_ms}, preprocess;dur=${t.preprocess_ms}, inference;dur=${t.inference_ms}, total;dur=${t.total_ms}`;
