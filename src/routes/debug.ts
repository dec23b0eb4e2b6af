/** @module /debug/memory (only with DEBUG_ROUTES = "1"): the isolate's wasm heap, for benchmarks and tests. */
import { Hono } from 'hono';
import { readConfig } from '../config.js';
import { ApiError } from '../http/errors.js';
import type { AppEnv } from '../http/types.js';
import { registryStats } from '../model/registry.js';
import { wasmHeapBytes } from '../ort/workerd.js';

export const debug = new Hono<AppEnv>().get('/debug/memory', (c) => {
  if (readConfig(c.env).DEBUG_ROUTES !== '1') throw new ApiError(404, 'not_found', 'no such route');
  return c.json({ wasm_heap_bytes: wasmHeapBytes(), ...registryStats() });
});
