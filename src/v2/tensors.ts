/** @module Open Inference Protocol tensors ↔ our model: which input was sent, and the outputs we return. */
import type { Manifest } from '../core/manifest.js';
import { ApiError } from '../http/errors.js';
import type { V2InferInput, V2InferRequest } from './schemas.js';

/** The BYTES input that carries an encoded image file. */
export const IMAGE_INPUT = 'image';
/** The BYTES output naming each class index. */
export const LABELS_OUTPUT = 'labels';

const invalid = (message: string) => new ApiError(400, 'invalid_input', message);

/** Row-major flattening of nested protocol data. */
export function flatten(data: unknown[]): unknown[] {
  return data.some(Array.isArray) ? data.flat(Infinity) : data;
}

/** Standard or URL-safe base64, padding optional. */
export function decodeBase64(text: string): Uint8Array {
  const normalised = text.replace(/[\r\n\s]/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normalised)) throw invalid('the image input is not base64');
  let binary: string;
  try {
    binary = atob(normalised.padEnd(Math.ceil(normalised.length / 4) * 4, '='));
  } catch {
    throw invalid('the image input is not base64');
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The inputs of one infer request, N ≤ `maxBatch` rows: encoded image files (BYTES, shape [N], each decoded from
 * base64 only when its turn comes) or rows of the model's own input tensor (FP32, shape [N, 3, H, W]).
 */
export type ModelInputs = { kind: 'image'; count: number; image(i: number): Uint8Array } | { kind: 'tensor'; count: number; row(i: number): Float32Array };

const BASE64 = /^[A-Za-z0-9+/\-_\s]*={0,2}\s*$/;

function checkBatch(name: string, n: number | undefined, maxBatch: number): number {
  if (n === undefined || n < 1) throw invalid(`input "${name}" needs a batch dimension of at least 1`);
  if (n > maxBatch) throw new ApiError(400, 'batch_too_large', `input "${name}" holds ${n} items; the limit is ${maxBatch} (MAX_BATCH)`);
  return n;
}

function imageInputs(input: V2InferInput, maxBatch: number): ModelInputs {
  if (input.datatype !== 'BYTES') throw invalid(`input "${IMAGE_INPUT}" must have datatype BYTES, got ${input.datatype}`);
  if (input.shape.length !== 1) throw invalid(`input "${IMAGE_INPUT}" must have shape [N] (one file per element), got [${input.shape.join(', ')}]`);
  const count = checkBatch(IMAGE_INPUT, input.shape[0], maxBatch);
  const values = flatten(input.data);
  if (values.length !== count) throw invalid(`input "${IMAGE_INPUT}" has ${values.length} elements; shape [${count}] needs ${count}`);
  values.forEach((value, i) => {
    if (typeof value !== 'string' || value.length === 0) throw invalid(`input "${IMAGE_INPUT}" must hold each file as a base64 string (element ${i} does not)`);
    if (!BASE64.test(value)) throw invalid(`input "${IMAGE_INPUT}" element ${i} is not base64`);
  });
  return { kind: 'image', count, image: (i) => decodeBase64(values[i] as string) };
}

function tensorInputs(input: V2InferInput, manifest: Manifest, maxBatch: number): ModelInputs {
  const [, ...item] = manifest.input.shape;
  if (input.datatype !== 'FP32') throw invalid(`input "${input.name}" must have datatype FP32, got ${input.datatype}`);
  if (input.shape.length !== item.length + 1 || input.shape.slice(1).some((d, i) => d !== item[i])) {
    throw invalid(`input "${input.name}" must have shape [N, ${item.join(', ')}], got [${input.shape.join(', ')}]`);
  }
  const count = checkBatch(input.name, input.shape[0], maxBatch);
  const values = flatten(input.data);
  const size = item.reduce((a, b) => a * b, 1);
  if (values.length !== count * size) throw invalid(`input "${input.name}" has ${values.length} values; shape [${input.shape.join(', ')}] needs ${count * size}`);
  const data = new Float32Array(count * size);
  for (let i = 0; i < data.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`input "${input.name}" holds a value that is not a finite number at ${i}`);
    data[i] = v;
  }
  return { kind: 'tensor', count, row: (i) => data.subarray(i * size, (i + 1) * size) };
}

/** The one input of an infer request: encoded images or the model's own input tensor, N ≤ `maxBatch` of them. */
export function readModelInputs(request: V2InferRequest, manifest: Manifest, maxBatch: number): ModelInputs {
  if (request.inputs.length !== 1) throw invalid(`send exactly one input ("${IMAGE_INPUT}" or "${manifest.input.name}"), got ${request.inputs.length}`);
  const input = request.inputs[0]!;
  if (input.name === IMAGE_INPUT) return imageInputs(input, maxBatch);
  if (input.name === manifest.input.name) return tensorInputs(input, manifest, maxBatch);
  throw invalid(`unknown input "${input.name}"; expected "${IMAGE_INPUT}" (BYTES) or "${manifest.input.name}" (FP32)`);
}

/** The names of the outputs a request asks for, checked (all of them when it names none). */
export function requestedOutputs(manifest: Manifest, requested?: Array<{ name: string }>): string[] {
  const known = [manifest.output.name, LABELS_OUTPUT];
  if (!requested) return known;
  for (const { name } of requested) {
    if (!known.includes(name)) throw invalid(`unknown output "${name}"; this model has ${known.map((o) => `"${o}"`).join(' and ')}`);
  }
  return requested.map(({ name }) => name);
}

/**
 * Output tensors for N rows of scores: the probabilities [N, C] and the label of each class index [N, C] (the
 * same C labels on every row, so that rows pair up), those named in `names` in that order.
 */
export function buildOutputs(rows: Float32Array[], manifest: Manifest, names: string[]) {
  const n = manifest.labels.length;
  const labels = Array.from({ length: n }, (_, i) => manifest.labels[i] ?? String(i));
  const outputs = [
    { name: manifest.output.name, datatype: 'FP32' as const, shape: [rows.length, n], data: rows.flatMap((r) => Array.from(r)) },
    { name: LABELS_OUTPUT, datatype: 'BYTES' as const, shape: [rows.length, n], data: rows.flatMap(() => labels) },
  ];
  return names.map((name) => outputs.find((o) => o.name === name)!);
}
