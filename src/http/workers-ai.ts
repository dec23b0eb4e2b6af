/**
 * @module What Cloudflare Workers AI's hosted `@cf/microsoft/resnet-50` takes and gives, shared by its REST
 * routes and the service binding: the input `{"image": [bytes…]}` (or the bytes themselves) and the answer,
 * the five best `{label, score}`.
 */
import { z } from '@hono/zod-openapi';
import { topK } from '../core/classify.js';
import type { DecodeLimits } from '../core/image/decode.js';
import { scoreImage } from '../model/classify.js';
import type { LoadedModel } from '../model/registry.js';
import { ApiError } from './errors.js';

/** The hosted model's name, as callers pass it to `env.AI.run` and put in the REST path. */
export const WORKERS_AI_MODEL = '@cf/microsoft/resnet-50';
/** Cloudflare's REST path for it (relative to `https://api.cloudflare.com/client/v4`). */
export const WORKERS_AI_ACCOUNT_PATH = `/accounts/{account_id}/ai/run/${WORKERS_AI_MODEL}`;
/** The hosted model answers with its five best labels. */
export const WORKERS_AI_TOP = 5;

const ByteArraySchema = z.array(z.number().int().min(0).max(255)).min(1);

/** The image out of the binding's input: `number[]` as documented, or binary (RPC carries it without copying to a list). */
export function bindingImage(input: unknown): Uint8Array {
  const image = typeof input === 'object' && input !== null ? (input as { image?: unknown }).image : undefined;
  if (image instanceof Uint8Array && image.byteLength > 0) return image;
  if (image instanceof ArrayBuffer && image.byteLength > 0) return new Uint8Array(image);
  const parsed = ByteArraySchema.safeParse(image);
  if (!parsed.success) throw new ApiError(400, 'invalid_body', 'the input must be {"image": [bytes 0–255…]}');
  return Uint8Array.from(parsed.data);
}

/** Refuses any model name but the one this Worker stands in for. */
export function checkWorkersAiModel(name: string): void {
  if (name !== WORKERS_AI_MODEL) throw new ApiError(404, 'model_not_found', `this server runs only ${WORKERS_AI_MODEL}, not "${name}"`);
}

/** The hosted model's answer for one encoded image. */
export async function runWorkersAi(bytes: Uint8Array, model: LoadedModel, limits: DecodeLimits, k = WORKERS_AI_TOP) {
  const { scores } = await scoreImage(bytes, model, limits);
  return topK(scores, model.manifest.labels, k).map(({ label, score }) => ({ label, score }));
}
