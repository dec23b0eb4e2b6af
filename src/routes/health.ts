/** @module Liveness (`/healthz`), readiness (`/readyz`: the model session exists or can be created). */
import { createRoute } from '@hono/zod-openapi';
import { requireModel } from '../http/model.js';
import { createRouter } from '../http/openapi.js';
import { errorResponses, LiveSchema, ReadySchema } from '../http/schemas.js';

const live = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['Health'],
  summary: 'Liveness: the isolate answers',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: LiveSchema } } } },
});

const ready = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['Health'],
  summary: 'Readiness: the model session exists or can be created',
  responses: { 200: { description: 'Ready', content: { 'application/json': { schema: ReadySchema } } }, ...errorResponses([503]) },
});

export const health = createRouter()
  .openapi(live, (c) => c.json({ status: 'ok' as const }, 200))
  .openapi(ready, async (c) => {
    const { manifest } = await requireModel(c);
    return c.json({ status: 'ready' as const, model: { name: manifest.name, version: manifest.version, sha256: manifest.sha256 } }, 200);
  });
