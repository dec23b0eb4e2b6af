/** @module Route helpers: the isolate's model for this request's environment. */
import type { Context } from 'hono';
import { readConfig } from '../config.js';
import { getModel, type LoadedModel } from '../model/registry.js';
import type { AppEnv } from './types.js';

/** The loaded model; throws ModelUnavailableError (a 503 with its reason code) when there is none. */
export function requireModel(c: Context<AppEnv>): Promise<LoadedModel> {
  const config = readConfig(c.env);
  return getModel(c.env.MODELS, {
    ttlSeconds: config.MANIFEST_TTL_SECONDS,
    prepack: config.ORT_PREPACK === '1',
    storageTimeoutSeconds: config.STORAGE_TIMEOUT_SECONDS,
    background: (work) => backgroundOf(c)?.(work),
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
