/** @module The Hono app: routes, the OpenAPI document, and the error contract for everything else. */
import { OpenAPIHono } from '@hono/zod-openapi';
import { configuredCors } from './http/cors.js';
import { errorBody, toErrorResponse } from './http/errors.js';
import { routingPath } from './http/path.js';
import type { AppEnv } from './http/types.js';
import { debug } from './routes/debug.js';
import { examples } from './routes/examples.js';
import { health } from './routes/health.js';
import { jobs } from './routes/jobs.js';
import { models } from './routes/models.js';
import { predict } from './routes/predict.js';
import { v2 } from './routes/v2.js';
import { workersAi } from './routes/workers-ai.js';

export const OPENAPI_INFO = {
  title: 'edge-resnet',
  version: '1.0.0',
  description: 'Image classification with an int8 ResNet50 in a Cloudflare Worker (onnxruntime-web, WASM SIMD).',
};

export const app = new OpenAPIHono<AppEnv>({ getPath: routingPath });
app.use('*', configuredCors);
app
  .route('/', predict)
  .route('/', health)
  .route('/', models)
  .route('/', examples)
  .route('/', v2)
  .route('/', workersAi)
  .route('/', jobs)
  .route('/', debug);

app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'Only when the API_KEY secret is set' });
app.doc31('/openapi.json', { openapi: '3.1.0', info: OPENAPI_INFO });
app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));
app.onError(toErrorResponse);
