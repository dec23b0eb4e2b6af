/**
 * @module The isolate's model: created lazily on first use, once, shared by concurrent first requests, and
 * re-checked against R2 every MANIFEST_TTL_SECONDS. A newly published model that fails verification never
 * replaces the session already serving.
 */
import type { Manifest } from '../core/manifest.js';
import { createSession, type OrtSession } from '../ort/workerd.js';
import { ModelUnavailableError, readManifest, readVerifiedModel, releaseModelBytes, type LoadTimings, type ModelFiles } from './store.js';

export interface LoadedModel {
  manifest: Manifest;
  session: OrtSession;
}

export interface RegistryOptions {
  ttlSeconds: number;
  prepack: boolean;
  /** How long one load may wait on R2 (manifest and model together) before it fails with `model_storage_timeout`. */
  storageTimeoutSeconds: number;
  /**
   * Keeps a re-check alive after the response that started it (the request's `waitUntil`): an isolate that has
   * a model serves it while the manifest is checked again, so a slow or failing R2 never holds its requests.
   */
  background?: (work: Promise<unknown>) => void;
}

interface RegistryState {
  current: LoadedModel | null;
  loading: Promise<LoadedModel> | null;
  checkedAt: number;
  /** Counts session creations (tests assert concurrent first requests share one). */
  sessionsCreated: number;
  /** Where the last session's load went (the bench splits a cold start with it). */
  lastLoad: LoadTimings | null;
}

const state: RegistryState = { current: null, loading: null, checkedAt: 0, sessionsCreated: 0, lastLoad: null };

async function load(bucket: R2Bucket, options: RegistryOptions): Promise<LoadedModel> {
  const previous = state.current;
  const started = performance.now();
  const timings: LoadTimings = {};
  const deadline = Date.now() + options.storageTimeoutSeconds * 1000;
  let manifest: Manifest;
  try {
    manifest = await readManifest(bucket, deadline);
    timings.manifest_ms = performance.now() - started;
  } catch (e) {
    if (previous) return keep(previous, e);
    throw e;
  }
  state.checkedAt = Date.now();
  if (previous && previous.manifest.sha256 === manifest.sha256) return previous;
  let files: ModelFiles | null;
  try {
    files = await readVerifiedModel(bucket, manifest, timings, deadline);
  } catch (e) {
    if (previous) return keep(previous, e);
    throw e;
  }
  // One engine, one heap: release the old session first so the new one reuses its memory.
  if (previous) await previous.session.release();
  state.current = null;
  try {
    const creating = performance.now();
    const session = await createSession(files.model, { prepack: options.prepack, preOptimised: manifest.externalData?.preOptimised !== undefined }, files.externalData);
    timings.session_create_ms = performance.now() - creating;
    state.lastLoad = timings;
    state.sessionsCreated++;
    state.current = { manifest, session };
    return state.current;
  } catch (e) {
    throw new ModelUnavailableError('model_session_failed', `onnxruntime could not load ${manifest.name}@${manifest.version}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    // ORT holds its own copy in the wasm heap now: give the JS copies back at once, not at the next GC.
    releaseModelBytes(files.model);
    if (files.externalData) releaseModelBytes(files.externalData.data);
    files = null;
  }
}

function keep(previous: LoadedModel, reason: unknown): LoadedModel {
  console.error(`keeping model ${previous.manifest.name}@${previous.manifest.version}: the published one cannot be used`, reason instanceof Error ? reason.message : reason);
  state.checkedAt = Date.now();
  return previous;
}

/**
 * The model to serve; concurrent callers share one load. Once a model is loaded, a stale one is served while its
 * manifest is checked again in the background; callers wait only while there is no session at all (the first
 * load, and the moment a new model replaces the old one).
 */
export function getModel(bucket: R2Bucket, options: RegistryOptions): Promise<LoadedModel> {
  const current = state.current;
  if (current && Date.now() - state.checkedAt < options.ttlSeconds * 1000) return Promise.resolve(current);
  if (!state.loading) {
    state.loading = load(bucket, options).finally(() => {
      state.loading = null;
    });
    if (current) options.background?.(state.loading.catch(() => undefined));
  }
  return current ? Promise.resolve(current) : state.loading;
}

export const registryStats = () => ({ sessionsCreated: state.sessionsCreated, loaded: state.current?.manifest.sha256 ?? null, lastLoad: state.lastLoad });

/** Test hook: forget the isolate's model. */
export async function resetRegistry(): Promise<void> {
  // A load still running (a background re-check) would otherwise finish after the reset, beside the next one.
  await state.loading?.catch(() => undefined);
  await state.current?.session.release();
  Object.assign(state, { current: null, loading: null, checkedAt: 0, sessionsCreated: 0, lastLoad: null });
}
