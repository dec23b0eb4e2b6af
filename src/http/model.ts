/** @module Route helpers: the isolate's model for this request's environment. */
import type { Context } from 'hono';
import { readConfig } from '../config.js';
import { getModel, type LoadedModel } from '../model/registry.js';
import type { AppEnv } from './types.js';

/** The loaded model; throws ModelUnavailableError (a 503 with its reason code) when there is none. */
export const requireModel = (c: Context<AppEnv>): Promise<LoadedModel> => modelFor(c.env, backgroundOf(c));

/** The same for callers without a request context (the service binding): `background` is their waitUntil. */
export function modelFor(env: Env, background?: (work: Promise<unknown>) => void): Promise<LoadedModel> {
  const config = readConfig(env);
  return getModel(env.MODELS, {
    ttlSeconds: config.MANIFEST_TTL_SECONDS,
    prepack: config.ORT_PREPACK === '1',
    storageTimeoutSeconds: config.STORAGE_TIMEOUT_SECONDS,
    background,
  });
}

/** The request's waitUntil, where there is an execution context (Hono throws when there is none). */
function backgroundOf(c: Context<AppEnv>): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}
