/** Helpers for tests inside workerd: publish the test model into the MODELS bucket as `publish` does. */
import { env } from 'cloudflare:test';
import { inject } from 'vitest';
import { exampleKey, MANIFEST_KEY, modelKey, parseManifest, weightsKey, type Manifest } from '../../src/core/manifest.js';

export interface TestModel {
  manifest: Manifest;
  /** The self-contained model file. */
  bytes: Uint8Array;
  /** The external-data form (graph + weights) when the manifest names one. */
  split?: { graph: Uint8Array; weights: Uint8Array };
  /** The example images the manifest names, by file. */
  examples: Map<string, Uint8Array>;
}

const get = async (path: string) => new Uint8Array(await (await fetch(`${inject('modelBaseUrl')}/${path}`)).arrayBuffer());

export async function fetchTestModel(): Promise<TestModel> {
  const manifest = parseManifest(await (await fetch(`${inject('modelBaseUrl')}/manifest.json`)).json());
  const bytes = await get(manifest.file);
  const split = manifest.externalData && { graph: await get(manifest.externalData.graph.file), weights: await get(manifest.externalData.weights.file) };
  const examples = new Map<string, Uint8Array>();
  for (const e of manifest.examples ?? []) examples.set(e.file, await get(e.file));
  return { manifest, bytes, examples, ...(split ? { split } : {}) };
}

/** The same manifest as written before the external-data form existed: the Worker loads `file` itself. */
export function withoutExternalData(manifest: Manifest): Manifest {
  const { externalData: _split, ...plain } = manifest;
  return plain;
}

/** Content-addressed objects first, manifest last (what `pipeline publish` does). */
export async function publishTestModel(model?: TestModel, manifest?: Manifest): Promise<Manifest> {
  const m = model ?? (await fetchTestModel());
  const published = manifest ?? m.manifest;
  if (m.split && m.manifest.externalData) {
    await env.MODELS.put(weightsKey(m.manifest.externalData.weights), m.split.weights);
    await env.MODELS.put(modelKey(m.manifest.externalData.graph), m.split.graph);
  }
  await env.MODELS.put(modelKey(m.manifest), m.bytes);
  for (const e of m.manifest.examples ?? []) await env.MODELS.put(exampleKey(e), m.examples.get(e.file)!);
  await env.MODELS.put(MANIFEST_KEY, JSON.stringify(published));
  return published;
}

export async function fetchFixture(path: string): Promise<Uint8Array> {
  const response = await fetch(`${inject('modelBaseUrl')}/${path}`);
  if (!response.ok) throw new Error(`fixture ${path}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
