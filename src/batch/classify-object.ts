/**
 * @module One object of the bucket → its result line, through /predict's own path (decode → preprocess →
 * session → labels). A bad image is a line with its error code; only a fault of the model or of storage throws
 * (the chunk is then retried).
 */
import { decodeLimits, type Config } from '../config.js';
import { errorFacts, isRequestFault } from '../http/errors.js';
import { classifyImage } from '../model/classify.js';
import type { LoadedModel } from '../model/registry.js';
import type { ListedObject, ResultLine } from './types.js';

/**
 * Batch images of one isolate are classified one at a time: an isolate's 128 MB holds the session's wasm heap,
 * one object's bytes (≤ MAX_BODY_BYTES) and one decode (≤ MAX_DECODE_MB), whatever number of consumer calls and
 * requests share it. (A request's decode runs without a yield, so it never overlaps a batch decode either.)
 */
let queue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const result = queue.then(work, work);
  queue = result.catch(() => undefined);
  return result;
}

export function classifyObject(images: R2Bucket, object: ListedObject, model: LoadedModel, config: Config, top: number): Promise<ResultLine> {
  return oneAtATime(async () => {
    const stored = await images.get(object.key);
    if (!stored) return { key: object.key, etag: object.etag, error: { code: 'object_missing', message: 'the object was deleted after the listing' }, status: 404 };
    // The answer is for what the bucket holds now: its etag is the one on the line.
    const etag = stored.etag;
    if (stored.size > config.MAX_BODY_BYTES) {
      await stored.body.cancel();
      return { key: object.key, etag, error: { code: 'body_too_large', message: `the object is ${stored.size} bytes; the limit (MAX_BODY_BYTES, as for /predict) is ${config.MAX_BODY_BYTES}` }, status: 413 };
    }
    const bytes = new Uint8Array(await stored.arrayBuffer());
    try {
      const { class: index, label, confidence, top: ranked, model: ref } = await classifyImage(bytes, model, decodeLimits(config), top);
      return { key: object.key, etag, class: index, label, confidence, top: ranked, model: ref };
    } catch (err) {
      if (!isRequestFault(err)) throw err;
      const { code, message, status } = errorFacts(err);
      return { key: object.key, etag, error: { code, message }, status };
    }
  });
}
