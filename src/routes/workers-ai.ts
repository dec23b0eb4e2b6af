/**
 * @module A drop-in for Cloudflare Workers AI's hosted image classifier, on the paths its callers use: the REST
 * API's `POST /client/v4/accounts/{account_id}/ai/run/@cf/microsoft/resnet-50` (and the same without
 * `/client/v4`, where the `cloudflare` SDK's base URL already ends in it), plus the short `/ai/run/…`. The image
 * comes as raw bytes or as the binding's JSON `{"image": [bytes…]}`; the answer is the REST API's envelope
 * `{"result": [{"label", "score"}…], "success": true, "errors": [], "messages": []}`, errors in the same envelope.
 * The account id is accepted and ignored: this Worker is the account's model.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { decodeLimits, readConfig } from '../config.js';
import { readBodyCapped } from '../http/body.js';
import { requireApiKey } from '../http/auth.js';
import { ApiError, errorFacts, setRetryAfter } from '../http/errors.js';
import { requireModel } from '../http/model.js';
import { createRouter } from '../http/openapi.js';
import { imageBodyContent, WorkersAiEnvelopeSchema, TopQuerySchema } from '../http/schemas.js';
import type { AppEnv } from '../http/types.js';
import { bindingImage, checkWorkersAiModel, runWorkersAi, WORKERS_AI_ACCOUNT_PATH, WORKERS_AI_MODEL, WORKERS_AI_TOP } from '../http/workers-ai.js';

export const WORKERS_AI_PATH = `/ai/run/${WORKERS_AI_MODEL}`;

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
  return bindingImage(parsed);
}

const envelopeError = z.object({ result: z.null(), success: z.literal(false), errors: z.array(z.object({ code: z.string(), message: z.string() })), messages: z.array(z.unknown()) });
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: envelopeError } } });
const AccountParams = z.object({ account_id: z.string().openapi({ param: { name: 'account_id', in: 'path' }, description: 'Accepted and ignored', example: '023e105f4ecef8ad9ca31a8372d0c353' }) });

const runRoute = (path: string, summary: string) =>
  createRoute({
    method: 'post',
    path,
    tags: ['Workers AI compatible'],
    summary,
    security: [{ apiKey: [] }],
    middleware: [requireApiKey] as const,
    request: {
      ...(path.includes('{account_id}') ? { params: AccountParams } : {}),
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

async function run(c: Context<AppEnv>, top: number | undefined) {
  const bytes = await readImage(c);
  const model = await requireModel(c);
  const result = await runWorkersAi(bytes, model, decodeLimits(readConfig(c.env)), top ?? WORKERS_AI_TOP);
  return c.json({ result, success: true as const, errors: [], messages: [] }, 200);
}

/** Any other model name on a run path: 404 in the envelope (the SDK then throws NotFoundError). */
const otherModel = (c: Context<AppEnv>) => {
  checkWorkersAiModel(c.req.path.slice(c.req.path.indexOf('/ai/run/') + '/ai/run/'.length));
  return c.notFound(); // not reached: only other names miss the routes above
};

export const workersAi = createRouter()
  .openapi(runRoute(WORKERS_AI_PATH, 'Classify an image, Workers AI style'), (c) => run(c, c.req.valid('query').top))
  .openapi(runRoute(WORKERS_AI_ACCOUNT_PATH, "Classify an image on Workers AI's REST path (the cloudflare SDK's, base URL …/client/v4)"), (c) => run(c, c.req.valid('query').top))
  .openapi(runRoute(`/client/v4${WORKERS_AI_ACCOUNT_PATH}`, "Classify an image on Workers AI's full REST path"), (c) => run(c, c.req.valid('query').top))
  .post('/ai/run/*', otherModel)
  .post('/accounts/:account_id/ai/run/*', otherModel)
  .post('/client/v4/accounts/:account_id/ai/run/*', otherModel);

workersAi.onError((err, c) => {
  const facts = errorFacts(err);
  setRetryAfter(c, facts);
  return c.json({ result: null, success: false, errors: [{ code: facts.code, message: facts.message }], messages: [] }, facts.status);
});
