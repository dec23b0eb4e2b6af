/**
 * @module The path Hono routes on. Hono decodes a path as `decodeURI` does, which keeps `%2F` encoded; the
 * `cloudflare` SDK sends the model name as one encoded segment (`/ai/run/@cf%2Fmicrosoft%2Fresnet-50`), so
 * the part after `/ai/run/` is decoded whole: both spellings then reach the same route.
 */
import { getPath } from 'hono/utils/url';

const RUN_SEGMENT = '/ai/run/';

export function routingPath(request: Request): string {
  const path = getPath(request);
  const at = path.indexOf(RUN_SEGMENT);
  if (at < 0 || !path.includes('%', at)) return path;
  const model = path.slice(at + RUN_SEGMENT.length);
  try {
    return path.slice(0, at + RUN_SEGMENT.length) + decodeURIComponent(model);
  } catch {
    return path; // malformed escapes: routed as sent (and answered 404)
  }
}
