/** @module A middleware that reads the body under the size cap before any validator parses it. */
import type { MiddlewareHandler } from 'hono';
import { readConfig } from '../config.js';
import { readBodyCapped } from './body.js';
import type { AppEnv } from './types.js';

/**
 * Hono's validators read `c.req.json()` with no limit. This reads the body once, counting bytes (413 over
 * MAX_BODY_BYTES), and leaves it in Hono's body cache, from which json()/arrayBuffer() then derive.
 */
export const cappedBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  const bytes = await readBodyCapped(c.req.raw, readConfig(c.env).MAX_BODY_BYTES);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  (c.req as unknown as { bodyCache: { arrayBuffer?: Promise<ArrayBuffer> } }).bodyCache.arrayBuffer = Promise.resolve(buffer);
  await next();
};
