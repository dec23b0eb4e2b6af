/** @module Liveness (`/healthz`), readiness (`/readyz`: the model session exists or can be created). */
import { Hono } from 'hono';
import { requireModel } from '../http/model.js';
import type { AppEnv } from '../http/types.js';

export const health = new Hono<AppEnv>()
  .get('/healthz', (c) => c.json({ status: 'ok' }))
  .get('/readyz', async (c) => {
    const { manifest } = await requireModel(c);
    return c.json({ status: 'ready', model: { name: manifest.name, version: manifest.version, sha256: manifest.sha256 } });
  });
