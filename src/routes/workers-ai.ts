/**
 * @module A drop-in for Cloudflare Workers AI's hosted image classifier: `POST /ai/run/@cf/microsoft/resnet-50`
 * with the image as raw bytes (or JSON `{"image": [bytes…]}`, the binding's input), answered in the REST
 * API's envelope `{"result": [{"label", "score"}…], "success": true, …}`. Code written for the hosted model
 * switches to this one by changing the base URL.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { decodeLimits, readConfig } from '../config.js';
import { topK } from '../core/classify.js';
import { readBodyCapped } from '../http/body.js';
import { requireApiKey } from '../http/auth.js';
import { ApiError, errorFacts, setRetryAfter } from '../http/errors.js';
import { requireModel } from '../http/model.js';
import { createRouter } from '../http/openapi.js';
import { imageBodyContent, WorkersAiEnvelopeSchema, TopQuerySchema } from '../http/schemas.js';
import type { AppEnv } from '../http/types.js';
import { scoreImage } from '../model/classify.js';

export const WORKERS_AI_PATH = '/ai/run/@cf/microsoft/resnet-50';
/** The hosted model answers with its five best labels. */
const WORKERS_AI_TOP = 5;

const BindingInputSchema = z.object({ image: z.array(z.number().int().min(0).max(255)).min(1) });

/** Raw bytes, or the binding's JSON form `{"image": number[]}`. */
async function readImage(c: Context<AppEnv>): Promise<Uint8Array> {
  const body = await readBodyCapped(c.req.raw, readConfig(c.env).MAX_BODY_BYTES);
  if (body.byteLength === 0) throw new ApiError(400, 'missing_image', 'send the image as the request body');
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new ApiError(400, 'invalid_body', 'the JSON body could not be parsed');
  }
  const result = BindingInputSchema.safeParse(parsed);
  if (!result.success) throw new ApiError(400, 'invalid_body', 'the JSON body must be {"image": [bytes 0–255…]}');
  return Uint8Array.from(result.data.image);
}

const envelopeError = z.object({ result: z.null(), success: z.literal(false), errors: z.array(z.object({ code: z.string(), message: z.string() })), messages: z.array(z.unknown()) });
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: envelopeError } } });

const route = createRoute({
  method: 'post',
  path: WORKERS_AI_PATH,
  tags: ['Workers AI compatible'],
  summary: 'Classify an image, Workers AI style',
  security: [{ apiKey: [] }],
  middleware: [requireApiKey] as const,
  request: {
    query: TopQuerySchema,
    body: { content: { ...imageBodyContent, 'application/json': { schema: { type: 'object', properties: { image: { type: 'array', items: { type: 'integer' } } } } } }, required: true },
  },
  responses: {
    200: { description: 'The five best labels (or `?top=K`)', content: { 'application/json': { schema: WorkersAiEnvelopeSchema } } },
    400: errorResponse('No image'),
    401: errorResponse('Missing or wrong API key (when API_KEY is set)'),
    413: errorResponse('Too large'),
    415: errorResponse('Not JPEG/PNG'),
    422: errorResponse('Undecodable'),
    503: errorResponse('Model unavailable'),
  },
});

export const workersAi = createRouter().openapi(route, async (c) => {
  const bytes = await readImage(c);
  const model = await requireModel(c);
  const { scores } = await scoreImage(bytes, model, decodeLimits(readConfig(c.env)));
  const result = topK(scores, model.manifest.labels, c.req.valid('query').top ?? WORKERS_AI_TOP).map(({ label, score }) => ({ label, score }));
  return c.json({ result, success: true as const, errors: [], messages: [] }, 200);
});

workersAi.onError((err, c) => {
  const facts = errorFacts(err);
  setRetryAfter(c, facts);
  return c.json({ result: null, success: false, errors: [{ code: facts.code, message: facts.message }], messages: [] }, facts.status);
});
