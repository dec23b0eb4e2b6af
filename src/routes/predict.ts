/**
 * @module POST /predict: an image in (multipart field `image` or raw bytes), ranked labels out. Repeated `image`
 * fields make a batch: an array answer, one entry per image in order, where an image that cannot be classified
 * gets its own error in place and the others are still answered.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { decodeLimits, readConfig } from '../config.js';
import { classifyImage, serverTiming, type Prediction } from '../model/classify.js';
import { extractImages } from '../http/body.js';
import { requireApiKey } from '../http/auth.js';
import { errorFacts, isRequestFault } from '../http/errors.js';
import { requireModel } from '../http/model.js';
import { createRouter } from '../http/openapi.js';
import { BatchItemErrorSchema, BatchPredictionSchema, errorResponses, imageBodyContent, PredictionSchema, PredictQuerySchema } from '../http/schemas.js';

export const DEFAULT_TOP = 5;

type BatchItemError = z.infer<typeof BatchItemErrorSchema>;

const route = createRoute({
  method: 'post',
  path: '/predict',
  tags: ['Classification'],
  summary: 'Classify an image (or a batch)',
  description:
    'The image is the multipart/form-data field `image` or the raw body. JPEG or PNG, detected from magic bytes (headers are ignored). ' +
    'EXIF orientation is applied; transparent pixels are composited on white. Repeat the `image` field (up to MAX_BATCH, default 8) ' +
    'for a batch: the answer is then an array, one Prediction or BatchItemError per image, in order. A cut image (its data ends early) is ' +
    'refused with 422 `truncated_image` unless `allow_partial=1`: it is then classified from what it holds, with a `warnings` entry.',
  security: [{ apiKey: [] }],
  middleware: [requireApiKey] as const,
  request: { query: PredictQuerySchema, body: { content: imageBodyContent, required: true } },
  responses: {
    200: {
      description: 'Ranked labels (an array for a batch). A `Server-Timing` header carries the timing parts of a single image.',
      headers: { 'Server-Timing': { schema: { type: 'string' }, description: 'decode, preprocess, inference, total' } },
      content: { 'application/json': { schema: z.union([PredictionSchema, BatchPredictionSchema]) } },
    },
    ...errorResponses([400, 401, 413, 415, 422, 503]),
  },
});

export const predict = createRouter().openapi(route, async (c) => {
  const config = readConfig(c.env);
  const query = c.req.valid('query');
  const k = query.top ?? DEFAULT_TOP;
  const options = { allowPartial: query.allow_partial === '1' };
  const { batch, images } = await extractImages(c.req.raw, config.MAX_BODY_BYTES, config.MAX_BATCH);
  const model = await requireModel(c);
  const limits = decodeLimits(config);
  if (!batch) {
    const prediction = await classifyImage(images[0] as Uint8Array, model, limits, k, options);
    c.header('Server-Timing', serverTiming(prediction.timing));
    return c.json(prediction, 200);
  }
  // One image at a time: a batch never holds more than one decoded image.
  const answers: Array<Prediction | BatchItemError> = [];
  for (const image of images) {
    try {
      if (!(image instanceof Uint8Array)) throw image;
      answers.push(await classifyImage(image, model, limits, k, options));
    } catch (err) {
      if (!isRequestFault(err)) throw err; // the model or the server failed: the whole call does
      const facts = errorFacts(err);
      answers.push({ error: { code: facts.code, message: facts.message }, status: facts.status });
    }
  }
  return c.json(answers, 200);
});
