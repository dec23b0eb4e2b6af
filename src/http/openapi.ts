/** @module The typed router every route module uses: OpenAPIHono with the API's error contract for bad requests. */
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { AppEnv } from './types.js';
import { errorBody } from './errors.js';

/** Summarises zod issues for a person: `top: Too big: expected number to be <=1000`. */
export const describeIssues = (issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>) =>
  issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; ');

/** A failed request validation becomes a 400 in the API's error form. */
const invalidRequest: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
  if (!result.success) return c.json(errorBody('invalid_parameter', describeIssues(result.error.issues)), 400);
};

export const createRouter = () => new OpenAPIHono<AppEnv>({ defaultHook: invalidRequest });
