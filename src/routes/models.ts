/** @module GET /v1/models: what is served, from the manifest (no session needed). */
import { createRoute } from '@hono/zod-openapi';
import type { Manifest } from '../core/manifest.js';
import { createRouter } from '../http/openapi.js';
import { errorResponses, ModelsSchema } from '../http/schemas.js';
import { readManifest } from '../model/store.js';

export const describeModel = (m: Manifest) => ({
  name: m.name,
  version: m.version,
  sha256: m.sha256,
  labels: m.labels,
  input: m.input,
  preprocess: m.preprocess,
  quantization: m.quantization,
});

const route = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['Classification'],
  summary: 'The served model: labels, input, preprocessing, quantization',
  responses: { 200: { description: 'The model list', content: { 'application/json': { schema: ModelsSchema } } }, ...errorResponses([503]) },
});

export const models = createRouter().openapi(route, async (c) => c.json({ models: [describeModel(await readManifest(c.env.MODELS))] }, 200));
