/** Helpers for tests inside workerd: publish the test model into the MODELS bucket as `publish` does. */
import { env } from 'cloudflare:test';
import { inject } from 'vitest';
import { parseManifest, type Manifest } from '../../src/core/manifest.js';
import { MANIFEST_KEY, modelKey } from '../../src/core/manifest.js';

export async function fetchTestModel(): Promise<{ manifest: Manifest; bytes: Uint8Array }> {
  const base = inject('modelBaseUrl');
  const manifest = parseManifest(await (await fetch(`${base}/manifest.json`)).json());
  const bytes = new Uint8Array(await (await fetch(`${base}/${manifest.file}`)).arrayBuffer());
  return { manifest, bytes };
}

/** Content-addressed object first, manifest last (what `pipeline publish` does). */
export async function publishTestModel(model?: { manifest: Manifest; bytes: Uint8Array }): Promise<Manifest> {
  const { manifest, bytes } = model ?? (await fetchTestModel());
  await env.MODELS.put(modelKey(manifest), bytes);
  await env.MODELS.put(MANIFEST_KEY, JSON.stringify(manifest));
  return manifest;
}

export async function fetchFixture(path: string): Promise<Uint8Array> {
  const response = await fetch(`${inject('modelBaseUrl')}/${path}`);
  if (!response.ok) throw new Error(`fixture ${path}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
