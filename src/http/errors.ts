/** @module The API's error contract: `{"error": {"code", "message"}}` with a 4xx/5xx status. */
import type { Context } from 'hono';
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
  [ImageErrorCode.tooLarge]: 413,
};

export const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** Maps anything thrown by a handler to the contract; unknown errors are logged and never leak details. */
export function toErrorResponse(err: unknown, c: Context): Response {
  if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status);
  if (isImageError(err)) return c.json(errorBody(err.code, err.message), IMAGE_STATUS[err.code] ?? 422);
  if (err instanceof ModelUnavailableError) return c.json(errorBody(err.code, err.message), 503);
  console.error('unhandled error', err);
  return c.json(errorBody('internal_error', 'the server failed to handle this request'), 500);
}
