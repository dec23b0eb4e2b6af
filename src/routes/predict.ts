/** @module POST /predict: an image in (multipart field `image` or raw bytes), ranked labels out. */
import { createRoute } from '@hono/zod-openapi';
import { decodeLimits, readConfig } from '../config.js';
import { classifyImage, serverTiming } from '../model/classify.js';
import { extractImage } from '../http/body.js';
import { requireApiKey } from '../http/auth.js';
import { requireModel } from '../http/model.js';
import { createRouter } from '../http/openapi.js';
import { errorResponses, imageBodyContent, PredictionSchema, TopQuerySchema } from '../http/schemas.js';

export const DEFAULT_TOP = 5;

const route = createRoute({
  method: 'post',
  path: '/predict',
  tags: ['Classification'],
  summary: 'Classify an image',
  description:
    'The image is the multipart/form-data field `image` or the raw body. JPEG or PNG, detected from magic bytes (headers are ignored). ' +
    'EXIF orientation is applied; transparent pixels are composited on white.',
  security: [{ apiKey: [] }],
  middleware: [requireApiKey] as const,
  request: { query: TopQuerySchema, body: { content: imageBodyContent, required: true } },
  responses: {
    200: {
      description: 'Ranked labels. A `Server-Timing` header carries the same timing parts.',
      headers: { 'Server-Timing': { schema: { type: 'string' }, description: 'decode, preprocess, inference, total' } },
      content: { 'application/json': { schema: PredictionSchema } },
    },
    ...errorResponses([400, 401, 413, 415, 422, 503]),
  },
});

export const predict = createRouter().openapi(route, async (c) => {
  const config = readConfig(c.env);
  const k = c.req.valid('query').top ?? DEFAULT_TOP;
  const bytes = await extractImage(c.req.raw, config.MAX_BODY_BYTES);
  const model = await requireModel(c);
  const prediction = await classifyImage(bytes, model, decodeLimits(config), k);
  c.header('Server-Timing', serverTiming(prediction.timing));
  return c.json(prediction, 200);
});
