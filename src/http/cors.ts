/** @module CORS from the `CORS_ORIGINS` var: off by default, "*" for any origin, or a comma-separated list. */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { readConfig } from '../config.js';
import type { AppEnv } from './types.js';

export const configuredCors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const setting = readConfig(c.env).CORS_ORIGINS.trim();
  if (!setting) return next();
  const allowed = setting.split(',').map((o) => o.trim()).filter(Boolean);
  return cors({
    origin: (origin) => (allowed.includes('*') ? '*' : allowed.includes(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type'],
    exposeHeaders: ['Server-Timing'],
    maxAge: 86400,
  })(c, next);
};
