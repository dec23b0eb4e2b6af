/** @module The API's error contract: `{"error": {"code", "message"}}` with a 4xx/5xx status. */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CodedError } from '../core/coded-error.js';
import { ImageErrorCode, isImageError } from '../core/image/errors.js';
import { ModelUnavailableError } from '../model/store.js';

export class ApiError extends CodedError {
  readonly status: ContentfulStatusCode;
  constructor(status: ContentfulStatusCode, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** Status for each image error code: the image layer knows the reason, the HTTP layer owns the status. */
const IMAGE_STATUS: Record<string, ContentfulStatusCode> = {
  [ImageErrorCode.unsupportedFormat]: 415,
  [ImageErrorCode.unsupportedVariant]: 415,
  [ImageErrorCode.corrupt]: 422,
  [ImageErrorCode.truncated]: 422,
  [ImageErrorCode.tooLarge]: 413,
};

export const errorBody = (code: string, message: string) => ({ error: { code, message } });

export interface ErrorFacts {
  status: ContentfulStatusCode;
  code: string;
  message: string;
  /** Seconds for `Retry-After` (503s: when trying again can help). */
  retryAfter?: number;
}

/** Status, code and message for anything a handler throws; unknown errors are logged and never leak details. */
export function errorFacts(err: unknown): ErrorFacts {
  if (err instanceof ApiError) return { status: err.status, code: err.code, message: err.message };
  if (isImageError(err)) return { status: IMAGE_STATUS[err.code] ?? 422, code: err.code, message: err.message };
  if (err instanceof ModelUnavailableError) return { status: 503, code: err.code, message: err.message, retryAfter: err.retryAfterSeconds };
  // Hono's own validators throw these for bodies they cannot parse (e.g. malformed JSON).
  if (err instanceof HTTPException && err.status < 500) return { status: err.status as ContentfulStatusCode, code: 'invalid_body', message: err.message };
  console.error('unhandled error', err);
  return { status: 500, code: 'internal_error', message: 'the server failed to handle this request' };
}

/** Whether `err` is the request's fault (a bad input or image: a 4xx), as opposed to the model's or the server's. */
export const isRequestFault = (err: unknown): err is ApiError | Error => err instanceof ApiError || isImageError(err);

/** The API's error form (`{"error": {"code", "message"}}`); protocol routes format the same facts their way. */
export function toErrorResponse(err: unknown, c: Context): Response {
  const facts = errorFacts(err);
  setRetryAfter(c, facts);
  return c.json(errorBody(facts.code, facts.message), facts.status);
}

/** Sets `Retry-After` when the facts carry one (every error form does this). */
export function setRetryAfter(c: Context, facts: ErrorFacts): void {
  if (facts.retryAfter !== undefined) c.header('Retry-After', String(facts.retryAfter));
}
