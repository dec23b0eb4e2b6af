/**
 * @module Models in R2: `manifest.json` names the current model; the model itself lives under a
 * content-addressed key, so publishing (object first, manifest last) never exposes a half-written model.
 */
import { CodedError } from '../core/coded-error.js';
import { exampleKey, MANIFEST_KEY, modelKey, parseManifest, weightsKey, type Manifest } from '../core/manifest.js';

export { MANIFEST_KEY, modelKey };

/** Seconds a client is told to wait (`Retry-After`) when storage failed: a transient fault, worth a retry soon. */
export const STORAGE_RETRY_SECONDS = 5;
/** …and when the published model itself cannot be served: nothing changes until someone publishes again. */
export const MODEL_RETRY_SECONDS = 60;

/** Why no model can be served; the HTTP layer answers 503 with this code and `Retry-After`. */
export class ModelUnavailableError extends CodedError {
  readonly retryAfterSeconds: number;
  constructor(code: string, message: string, retryAfterSeconds = MODEL_RETRY_SECONDS) {
    super(code, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** R2 threw, or a body broke off: `model_storage_unavailable`. Our own errors pass through. */
const storageFault = (what: string) => (e: unknown) => {
  if (e instanceof ModelUnavailableError) throw e;
  throw new ModelUnavailableError('model_storage_unavailable', `reading ${what} from the MODELS bucket failed: ${describe(e)}`, STORAGE_RETRY_SECONDS);
};

/**
 * `work`, or `model_storage_timeout` once `deadline` (Date.now() ms) passes: an R2 call or body that stalls
 * must not hold a request (and every request waiting on the same load) forever. `onTimeout` cancels the read.
 */
async function beforeDeadline<T>(work: Promise<T>, deadline: number, what: string, onTimeout?: () => void): Promise<T> {
  if (!Number.isFinite(deadline)) return work.catch(storageFault(what));
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new ModelUnavailableError('model_storage_timeout', `${what} did not arrive from the MODELS bucket in time`, STORAGE_RETRY_SECONDS));
    }, Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work.catch(storageFault(what)), timeout]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

export async function readManifest(bucket: R2Bucket, deadline = Infinity): Promise<Manifest> {
  const object = await beforeDeadline(bucket.get(MANIFEST_KEY), deadline, MANIFEST_KEY);
  if (!object) throw new ModelUnavailableError('model_not_published', `no ${MANIFEST_KEY} in the MODELS bucket: publish a model first`);
  const text = await beforeDeadline(object.text(), deadline, MANIFEST_KEY);
  try {
    return parseManifest(JSON.parse(text));
  } catch (e) {
    throw new ModelUnavailableError('model_manifest_invalid', describe(e));
  }
}

/** Where a model load's time went (ms), for the bench's cold-start split (workerd's clock moves at I/O only). */
export interface LoadTimings {
  manifest_ms?: number;
  r2_read_ms?: number;
  sha256_ms?: number;
  session_create_ms?: number;
}

/** What onnxruntime loads: the model file, and its weights when the manifest names an external-data form. */
export interface ModelFiles {
  model: Uint8Array;
  /** `path` is the location the graph names the weights by. */
  externalData?: { path: string; data: Uint8Array };
}

const hex = (digest: ArrayBuffer) => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * An object's body read into one buffer of its stated size while workerd hashes each chunk as it arrives
 * (crypto.DigestStream): the hash runs in the read's gaps instead of after it. The body is refused as soon as
 * it runs past `size`, and when it ends short of it.
 */
async function readHashed(object: R2ObjectBody, key: string, size: number, deadline: number): Promise<{ bytes: Uint8Array; sha256: string; bodyReadAt: number }> {
  const bytes = new Uint8Array(size);
  const digest = new crypto.DigestStream('SHA-256');
  const hashing = digest.getWriter();
  const reader = object.body.getReader();
  let offset = 0;
  for (;;) {
    const { done, value } = await beforeDeadline(reader.read(), deadline, key, () => void reader.cancel().catch(() => {}));
    if (done) break;
    if (offset + value.byteLength > size) {
      await reader.cancel();
      throw new ModelUnavailableError('model_integrity_failed', `${key} is longer than the ${size} bytes it was stated to be`);
    }
    bytes.set(value, offset);
    offset += value.byteLength;
    hashing.write(bytes.subarray(offset - value.byteLength, offset)).catch(() => {}); // a failed write surfaces at close()
  }
  const bodyReadAt = performance.now();
  if (offset !== size) throw new ModelUnavailableError('model_integrity_failed', `${key} ended after ${offset} of its ${size} bytes`);
  await hashing.close();
  return { bytes, sha256: hex(await digest.digest), bodyReadAt };
}

/** One R2 object's bytes, checked against its size and sha256 before anyone uses them. */
async function readVerified(bucket: R2Bucket, key: string, ref: { sha256: string; bytes: number }, timings: LoadTimings, deadline: number): Promise<Uint8Array> {
  const started = performance.now();
  const object = await beforeDeadline(bucket.get(key), deadline, key);
  if (!object) throw new ModelUnavailableError('model_object_missing', `the manifest names ${key}, which is not in the MODELS bucket`);
  if (object.size !== ref.bytes) {
    await object.body.cancel();
    throw new ModelUnavailableError('model_integrity_failed', `${key} is ${object.size} bytes; the manifest says ${ref.bytes}`);
  }
  const { bytes, sha256, bodyReadAt } = await readHashed(object, key, ref.bytes, deadline);
  // Read and hash overlap: the read's time runs to its last chunk, the hash's is what it took after that.
  timings.r2_read_ms = (timings.r2_read_ms ?? 0) + (bodyReadAt - started);
  timings.sha256_ms = (timings.sha256_ms ?? 0) + (performance.now() - bodyReadAt);
  if (sha256 !== ref.sha256) throw new ModelUnavailableError('model_integrity_failed', `${key} has sha256 ${sha256}; the manifest says ${ref.sha256}`);
  return bytes;
}

/** An example image the manifest names, verified like the model (small: read whole). */
export async function readExample(bucket: R2Bucket, ref: { sha256: string; bytes: number }, deadline = Infinity): Promise<Uint8Array> {
  return readVerified(bucket, exampleKey(ref), ref, {}, deadline);
}

/**
 * The files the manifest names, each verified: the external-data form (graph + weights: a smaller wasm heap)
 * when the manifest has one, else the model file itself (manifests written before that form existed).
 */
export async function readVerifiedModel(bucket: R2Bucket, manifest: Manifest, timings: LoadTimings = {}, deadline = Infinity): Promise<ModelFiles> {
  const split = manifest.externalData;
  if (!split) return { model: await readVerified(bucket, modelKey(manifest), manifest, timings, deadline) };
  const data = await readVerified(bucket, weightsKey(split.weights), split.weights, timings, deadline);
  const model = await readVerified(bucket, modelKey(split.graph), split.graph, timings, deadline);
  return { model, externalData: { path: split.weights.file, data } };
}

/**
 * Frees the model bytes now instead of at some later GC: detaching an ArrayBuffer (ES2024 `transfer`) drops V8's
 * reference to its backing store. Measured (`npm run bench`, a fresh isolate right after session creation):
 * without this the 25 MB can linger and a 12 MP request was sampled at 103.6 MB instead of ~82. Only a view
 * that spans its whole buffer is detached (never a buffer shared with anything else).
 */
export function releaseModelBytes(bytes: Uint8Array): boolean {
  const buffer = bytes.buffer as ArrayBuffer & { transfer?: (length?: number) => ArrayBuffer };
  if (bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength || typeof buffer.transfer !== 'function') return false;
  buffer.transfer(0);
  return true;
}
