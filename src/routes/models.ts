/** @module GET /v1/models: what is served, from the manifest (no session needed). */
import { Hono } from 'hono';
import type { Manifest } from '../core/manifest.js';
import type { AppEnv } from '../http/types.js';
import { readManifest } from '../model/store.js';

export const describeModel = (m: Manifest) => ({
  name: m.name,
  version: m.version,
  sha256: m.sha256,
  labels: m.labels,
  input: m.input,
  preprocess: m.preprocess,
  quantization: m.quantization,
});

export const models = new Hono<AppEnv>().get('/v1/models', async (c) => c.json({ models: [describeModel(await readManifest(c.env.MODELS))] }));
