/** @module Route helpers: the isolate's model for this request's environment. */
import type { Context } from 'hono';
import { readConfig } from '../config.js';
import { getModel, type LoadedModel } from '../model/registry.js';
import { ModelUnavailableError } from '../model/store.js';
import { ApiError } from './errors.js';
import type { AppEnv } from './types.js';

/** The loaded model, or a 503 ApiError saying why there is none. */
export async function requireModel(c: Context<AppEnv>): Promise<LoadedModel> {
  const config = readConfig(c.env);
  try {
    return await getModel(c.env.MODELS, { ttlSeconds: config.MANIFEST_TTL_SECONDS, prepack: config.ORT_PREPACK === '1' });
  } catch (e) {
    if (e instanceof ModelUnavailableError) throw new ApiError(503, e.code, e.message);
    throw e;
  }
}
