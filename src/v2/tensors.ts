/** @module Open Inference Protocol tensors ↔ our model: which input was sent, and the outputs we return. */
import type { Manifest } from '../core/manifest.js';
import { ApiError } from '../http/errors.js';
import type { V2InferInput, V2InferRequest } from './schemas.js';

/** The BYTES input that carries an encoded image file. */
export const IMAGE_INPUT = 'image';

export type ModelInput = { kind: 'image'; bytes: Uint8Array } | { kind: 'tensor'; data: Float32Array };

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

function imageInput(input: V2InferInput): ModelInput {
  if (input.datatype !== 'BYTES') throw invalid(`input "${IMAGE_INPUT}" must have datatype BYTES, got ${input.datatype}`);
  const values = flatten(input.data);
  if (input.shape.length !== 1 || input.shape[0] !== 1 || values.length !== 1) throw invalid(`input "${IMAGE_INPUT}" must have shape [1] and one element (batch size 1)`);
  const [value] = values;
  if (typeof value !== 'string' || value.length === 0) throw invalid(`input "${IMAGE_INPUT}" must hold the file as a base64 string`);
  return { kind: 'image', bytes: decodeBase64(value) };
}

function tensorInput(input: V2InferInput, manifest: Manifest): ModelInput {
  const expected = manifest.input.shape;
  if (input.datatype !== 'FP32') throw invalid(`input "${input.name}" must have datatype FP32, got ${input.datatype}`);
  if (input.shape.length !== expected.length || input.shape.some((d, i) => d !== expected[i])) {
    throw invalid(`input "${input.name}" must have shape [${expected.join(', ')}], got [${input.shape.join(', ')}]`);
  }
  const values = flatten(input.data);
  const size = expected.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw invalid(`input "${input.name}" has ${values.length} values; shape [${expected.join(', ')}] needs ${size}`);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`input "${input.name}" holds a value that is not a finite number at ${i}`);
    data[i] = v;
  }
  return { kind: 'tensor', data };
}

/** The one input of an infer request: an encoded image or the model's own input tensor. */
export function readModelInput(request: V2InferRequest, manifest: Manifest): ModelInput {
  if (request.inputs.length !== 1) throw invalid(`send exactly one input ("${IMAGE_INPUT}" or "${manifest.input.name}"), got ${request.inputs.length}`);
  const input = request.inputs[0]!;
  if (input.name === IMAGE_INPUT) return imageInput(input);
  if (input.name === manifest.input.name) return tensorInput(input, manifest);
  throw invalid(`unknown input "${input.name}"; expected "${IMAGE_INPUT}" (BYTES) or "${manifest.input.name}" (FP32)`);
}

/** Output tensors: the probabilities and the label of each index; `requested` filters them by name. */
export function buildOutputs(scores: Float32Array, manifest: Manifest, requested?: Array<{ name: string }>) {
  const n = scores.length;
  const outputs = [
    { name: manifest.output.name, datatype: 'FP32' as const, shape: [1, n], data: Array.from(scores) },
    { name: 'labels', datatype: 'BYTES' as const, shape: [1, n], data: Array.from({ length: n }, (_, i) => manifest.labels[i] ?? String(i)) },
  ];
  if (!requested) return outputs;
  return requested.map(({ name }) => {
    const output = outputs.find((o) => o.name === name);
    if (!output) throw invalid(`unknown output "${name}"; this model has ${outputs.map((o) => `"${o.name}"`).join(' and ')}`);
    return output;
  });
}
