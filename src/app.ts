/** @module The Hono app: routes, and the error contract for everything else. */
import { Hono } from 'hono';
import { errorBody, toErrorResponse } from './http/errors.js';
import type { AppEnv } from './http/types.js';
import { debug } from './routes/debug.js';
import { health } from './routes/health.js';
import { models } from './routes/models.js';
import { predict } from './routes/predict.js';

export const app = new Hono<AppEnv>()
  .route('/', predict)
  .route('/', health)
  .route('/', models)
  .route('/', debug);

app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));
app.onError(toErrorResponse);
