/** @module GET /v1/models: what is served and where to call it, from the manifest (no session needed). */
import { createRoute } from '@hono/zod-openapi';
import { readConfig } from '../config.js';
import type { Manifest } from '../core/manifest.js';
import { createRouter } from '../http/openapi.js';
import { errorResponses, ModelsSchema } from '../http/schemas.js';
import { WORKERS_AI_ACCOUNT_PATH, WORKERS_AI_MODEL } from '../http/workers-ai.js';
import { readManifest } from '../model/store.js';

export const describeModel = (m: Manifest, maxBatch: number) => ({
  name: m.name,
  version: m.version,
  sha256: m.sha256,
  labels: m.labels,
  input: m.input,
  preprocess: m.preprocess,
  quantization: m.quantization,
  max_batch: maxBatch,
  endpoints: {
    predict: '/predict',
    v2_infer: `/v2/models/${encodeURIComponent(m.name)}/versions/${encodeURIComponent(m.version)}/infer`,
    workers_ai: `/client/v4${WORKERS_AI_ACCOUNT_PATH}`,
    workers_ai_binding: { entrypoint: 'WorkersAiBinding', model: WORKERS_AI_MODEL },
    batch_jobs: '/v1/jobs',
  },
});

const route = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['Classification'],
  summary: 'The served model: labels, input, preprocessing, quantization, batch limit and endpoints',
  responses: { 200: { description: 'The model list', content: { 'application/json': { schema: ModelsSchema } } }, ...errorResponses([503]) },
});

export const models = createRouter().openapi(route, async (c) =>
  c.json({ models: [describeModel(await readManifest(c.env.MODELS), readConfig(c.env).MAX_BATCH)] }, 200),
);
