/** @module POST /predict: an image in (multipart field `image` or raw bytes), ranked labels out. */
import { Hono } from 'hono';
import { readConfig } from '../config.js';
import { classifyImage, serverTiming } from '../model/classify.js';
import { extractImage } from '../http/body.js';
import { ApiError } from '../http/errors.js';
import { requireModel } from '../http/model.js';
import type { AppEnv } from '../http/types.js';

export const DEFAULT_TOP = 5;

/** `?top=K`: a positive integer (clamped to the number of classes); absent means 5. */
export function parseTop(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_TOP;
  const k = Number(raw);
  if (!Number.isInteger(k) || k < 1 || k > 1000) throw new ApiError(400, 'invalid_parameter', `top must be an integer from 1 to 1000, got ${JSON.stringify(raw)}`);
  return k;
}

export const predict = new Hono<AppEnv>().post('/predict', async (c) => {
  const config = readConfig(c.env);
  const k = parseTop(c.req.query('top'));
  const bytes = await extractImage(c.req.raw, config.MAX_BODY_BYTES);
  const model = await requireModel(c);
  const prediction = await classifyImage(bytes, model, { maxPixels: config.MAX_IMAGE_PIXELS, maxDecodeBytes: config.MAX_DECODE_MB * 2 ** 20 }, k);
  c.header('Server-Timing', serverTiming(prediction.timing));
  return c.json(prediction);
});
