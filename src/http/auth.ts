/**
 * @module Optional API key on the inference routes: when the `API_KEY` secret is set, a request needs
 * `Authorization: Bearer <key>`, else 401. The comparison is constant-time over SHA-256 digests, so neither
 * the key's content nor its length leaks through timing.
 */
import type { MiddlewareHandler } from 'hono';
import { readConfig } from '../config.js';
import { ApiError } from './errors.js';
import type { AppEnv } from './types.js';

const digest = async (text: string) => new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/** True when `presented` equals `expected`, in time independent of where they differ. */
export async function keysMatch(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = readConfig(c.env).API_KEY;
  if (expected) {
    const match = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
    if (!match || !(await keysMatch(match[1]!.trim(), expected))) {
      c.header('WWW-Authenticate', 'Bearer realm="edge-resnet"');
      throw new ApiError(401, 'unauthorized', match ? 'the API key is not valid' : 'this server needs an API key: send "Authorization: Bearer <key>"');
    }
  }
  await next();
};
