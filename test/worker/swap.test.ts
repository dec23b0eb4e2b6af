/**
 * A model published while the Worker is busy, inside workerd: 8 clients post images without pause while
 * another model is published (objects first, manifest last, as `publish` does) and then the first one again.
 * No request fails, every answer names a model that was published, and each new model is served soon after
 * its manifest lands (MANIFEST_TTL_SECONDS is 0 in the test Worker: the next request starts the re-check).
 */
import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_KEY, modelKey, type Manifest } from '../../src/core/manifest.js';
import { resetRegistry } from '../../src/model/registry.js';
import { fetchFixture, fetchTestModel, publishTestModel, withoutExternalData, type TestModel } from './helpers.js';

const CLIENTS = 8;
let a: TestModel;
let b: { manifest: Manifest; bytes: Uint8Array };
let jpeg: Uint8Array;

const hex = (digest: ArrayBuffer) => Array.from(new Uint8Array(digest), (x) => x.toString(16).padStart(2, '0')).join('');

beforeAll(async () => {
  a = await fetchTestModel();
  jpeg = await fetchFixture('fixtures/circle.jpg');
  // Model B: the same network in another file, loaded another way (the self-contained file, not the split
  // form). One protobuf field no parser knows (number 99, varint 1) is appended, so its bytes and sha256 differ.
  const bytes = new Uint8Array(a.bytes.length + 3);
  bytes.set(a.bytes);
  bytes.set([0x98, 0x06, 0x01], a.bytes.length);
  const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
  b = { bytes, manifest: { ...withoutExternalData(a.manifest), name: 'swap-b', version: '2', sha256, bytes: bytes.length } };
});

async function publishB(): Promise<void> {
  await env.MODELS.put(modelKey(b.manifest), b.bytes);
  await env.MODELS.put(MANIFEST_KEY, JSON.stringify(b.manifest));
}

interface Answer {
  status: number;
  sha256?: string;
  code?: string;
  at: number;
}

/** `CLIENTS` loops posting the JPEG while `during` runs (it sees the answers as they come). */
async function underLoad(during: (answers: Answer[]) => Promise<void>): Promise<Answer[]> {
  const answers: Answer[] = [];
  let running = true;
  const client = async () => {
    while (running) {
      const res = await SELF.fetch('http://worker/predict', { method: 'POST', body: jpeg });
      const body = (await res.json()) as { model?: { sha256: string }; error?: { code: string } };
      answers.push({ status: res.status, sha256: body.model?.sha256, code: body.error?.code, at: Date.now() });
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  try {
    await during(answers);
  } finally {
    running = false;
    await Promise.all(clients);
  }
  return answers;
}

/** Milliseconds from `since` until the last answer of every client names `sha`. */
async function servedAfter(answers: Answer[], sha: string, since: number, timeoutMs = 30_000): Promise<number> {
  while (!(answers.length >= CLIENTS && answers.slice(-CLIENTS).every((x) => x.sha256 === sha))) {
    if (Date.now() - since > timeoutMs) throw new Error(`model ${sha.slice(0, 12)} not served within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - since;
}

describe('a model swapped under load', () => {
  it(`${CLIENTS} clients: no failed request, only published models answer, each new one served within seconds`, async () => {
    await resetRegistry();
    await publishTestModel(a);
    const shas = new Set([a.manifest.sha256, b.manifest.sha256]);
    expect(shas.size).toBe(2);
    let toB = 0;
    let toA = 0;
    const answers = await underLoad(async (live) => {
      await new Promise((r) => setTimeout(r, 500));
      const published = Date.now();
      await publishB();
      toB = await servedAfter(live, b.manifest.sha256, published);
      const back = Date.now();
      await publishTestModel(a);
      toA = await servedAfter(live, a.manifest.sha256, back);
    });
    const failed = answers.filter((x) => x.status !== 200);
    expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
    expect(answers.every((x) => shas.has(x.sha256!))).toBe(true);
    expect(answers.filter((x) => x.sha256 === b.manifest.sha256).length).toBeGreaterThan(0);
    expect(answers.length).toBeGreaterThan(4 * CLIENTS);
    console.log(`swap under load: ${answers.length} requests by ${CLIENTS} clients, none failed; model B served ${toB} ms after its manifest, A again ${toA} ms after`);
  });
});

