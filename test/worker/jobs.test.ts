/**
 * Batch jobs inside workerd: the API's contract, a whole job through the real queue, Durable Object and R2
 * bindings of wrangler.toml (bad files included), a rerun that reuses unchanged keys, cancelling, and the
 * consumer alone (createMessageBatch / getQueueResult): a re-delivered chunk, a failing store, the dead-letter
 * queue, a message that is not ours.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectionName, partKey } from '../../src/batch/job-id.js';
import type { ChunkMessage, JobStatus } from '../../src/batch/types.js';
import { JobResultLineSchema, JobStatusSchema } from '../../src/http/job-schemas.js';
import worker from '../../src/index.js';
import { fetchFixture, publishTestModel } from './helpers.js';

let jpeg: Uint8Array;
let png: Uint8Array;

const post = (body: unknown) => SELF.fetch('http://worker/v1/jobs', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const status = async (id: string) => (await (await SELF.fetch(`http://worker/v1/jobs/${id}`)).json()) as JobStatus;
const resultLines = async (id: string) => new TextDecoder().decode(await (await SELF.fetch(`http://worker/v1/jobs/${id}/results`)).arrayBuffer()).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

async function finished(id: string, seconds = 90): Promise<JobStatus> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const s = await status(id);
    if (['done', 'failed', 'cancelled'].includes(s.state)) return s;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${s.state} after ${seconds} s: ${JSON.stringify(s.counts)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The bucket's contents for the whole-job test: good images, and each kind of bad file with the code it must get. */
const BAD: Record<string, { bytes: () => Uint8Array; code: string; status: number }> = {
  // A segment with an impossible length (1).
  'job/bad/corrupt.jpg': { bytes: () => Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0, 0, 0, 0]), code: 'corrupt_image', status: 422 },
  'job/bad/truncated.jpg': { bytes: () => jpeg.slice(0, Math.floor(jpeg.byteLength * 0.6)), code: 'truncated_image', status: 422 },
  'job/bad/notes.txt': { bytes: () => new TextEncoder().encode('not an image'), code: 'unsupported_format', status: 415 },
  'job/bad/empty.png': { bytes: () => new Uint8Array(0), code: 'unsupported_format', status: 415 },
  // One byte over MAX_BODY_BYTES (10 MB): refused from its size, never read.
  'job/bad/oversized.jpg': { bytes: () => new Uint8Array(10 * 2 ** 20 + 1), code: 'body_too_large', status: 413 },
};
const GOOD = Array.from({ length: 12 }, (_, i) => `job/good/${String(i).padStart(2, '0')}.${i % 2 ? 'png' : 'jpg'}`);

beforeAll(async () => {
  await publishTestModel();
  jpeg = await fetchFixture('fixtures/circle.jpg');
  png = await fetchFixture('fixtures/star.png');
  for (const [i, key] of GOOD.entries()) await env.IMAGES.put(key, i % 2 ? png : jpeg);
  for (const [key, bad] of Object.entries(BAD)) await env.IMAGES.put(key, bad.bytes());
  await env.IMAGES.put('elsewhere/outside.jpg', jpeg); // not under the prefix: never listed
});

describe('POST /v1/jobs: the request', () => {
  it.each([
    [{}, 'prefix'],
    [{ prefix: 'a/', top: 0 }, 'top'],
    [{ prefix: 'a/', top: 2.5 }, 'top'],
    [{ prefix: 7 }, 'prefix'],
    [{ prefix: 'a/', limit: 3 }, 'limit'],
  ])('refuses %j with 400 invalid_parameter naming the field', async (body, field) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('invalid_parameter');
    expect(error.message).toContain(field);
  });

  it('refuses a body that is not JSON with 400', async () => {
    const res = await post('{"prefix": ');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_body');
  });

  it.each(['nope', `${'0'.repeat(64)}-1`, `${'a'.repeat(64)}-0`])('answers 404 job_not_found for the job id %s', async (id) => {
    for (const path of [`/v1/jobs/${id}`, `/v1/jobs/${id}/results`]) {
      const res = await SELF.fetch(`http://worker${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('job_not_found');
    }
    expect((await SELF.fetch(`http://worker/v1/jobs/${id}`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('a whole job, through the queue', () => {
  let id: string;
  let final: JobStatus;
  let lines: Array<Record<string, any>>;

  beforeAll(async () => {
    const res = await post({ prefix: 'job/', top: 3 });
    expect(res.status).toBe(202);
    const created = (await res.json()) as { id: string; status_url: string; created: boolean };
    expect(created.created).toBe(true);
    expect(created.status_url).toBe(`http://worker/v1/jobs/${created.id}`);
    expect(res.headers.get('location')).toBe(created.status_url);
    id = created.id;
    final = await finished(id);
    lines = await resultLines(id);
  });

  it('ends done with exact counts, in the documented shape', () => {
    JobStatusSchema.parse(final);
    expect(final.state).toBe('done');
    const bad = Object.keys(BAD).length;
    expect(final.counts).toEqual({ listed: GOOD.length + bad, done: GOOD.length, failed: bad, reused: 0 });
    expect(final.images_per_second).toBeGreaterThan(0);
    expect(final.eta_seconds).toBe(0);
    expect(final.finished_at).not.toBeNull();
    expect(final.results.prefix).toBe(`jobs/${id}/parts/`);
  });

  it('has one result line per key under the prefix, bad files with their codes', () => {
    expect(lines.map((l) => l.key).sort()).toEqual([...GOOD, ...Object.keys(BAD)].sort());
    for (const line of lines) {
      JobResultLineSchema.parse(line);
      const bad = BAD[line.key];
      if (bad) expect([line.key, line.error.code, line.status]).toEqual([line.key, bad.code, bad.status]);
      else expect(line.top, line.key).toHaveLength(3);
    }
  });

  it("answers each good image as /predict does for the same file, with the object's etag", async () => {
    for (const key of GOOD) {
      const line = lines.find((l) => l.key === key)!;
      const object = (await env.IMAGES.head(key))!;
      expect(line.etag).toBe(object.etag);
      const bytes = new Uint8Array(await (await env.IMAGES.get(key))!.arrayBuffer());
      const predicted = (await (await SELF.fetch('http://worker/predict?top=3', { method: 'POST', body: bytes })).json()) as Record<string, unknown>;
      expect({ class: line.class, label: line.label, confidence: line.confidence, top: line.top, model: line.model }).toEqual({
        class: predicted.class,
        label: predicted.label,
        confidence: predicted.confidence,
        top: predicted.top,
        model: predicted.model,
      });
    }
  });

  it('a rerun classifies only the keys whose etag changed; the others are reused as they were', async () => {
    await env.IMAGES.put(GOOD[0]!, png); // a new etag: classified again
    const res = await post({ prefix: 'job/', top: 3 });
    expect(res.status).toBe(202);
    const rerun = (await res.json()) as { id: string };
    expect(rerun.id).not.toBe(id);
    const second = await finished(rerun.id);
    expect(second.counts).toEqual({ ...final.counts, reused: final.counts.listed - 1 });
    const again = await resultLines(rerun.id);
    expect(again).toHaveLength(lines.length);
    for (const line of again) {
      if (line.key === GOOD[0]) expect(line.etag).not.toBe(lines.find((l) => l.key === line.key)!.etag);
      else expect(line).toEqual(lines.find((l) => l.key === line.key));
    }
    // A third run reuses everything: the second's parts hold what it reused as well as what it classified.
    const third = await finished(((await (await post({ prefix: 'job/', top: 3 })).json()) as { id: string }).id);
    expect(third.counts).toEqual({ ...final.counts, reused: final.counts.listed });
    expect(new Set((await resultLines(third.id)).map((l) => JSON.stringify(l)))).toEqual(new Set(again.map((l) => JSON.stringify(l))));
  });

  it('a re-delivered chunk that is already counted is acknowledged and changes nothing', async () => {
    const part = (await SELF.fetch(`http://worker/v1/jobs/${id}`).then((r) => r.json())) as JobStatus;
    const chunk = 'p000000-c0000';
    const before = new TextDecoder().decode(await (await env.RESULTS.get(partKey(id, chunk)))!.arrayBuffer());
    const message: ChunkMessage = { job: id, chunk, top: 3, objects: [{ key: GOOD[1]!, etag: 'x', size: 1 }] };
    const batch = createMessageBatch('edge-resnet-batch', [{ id: 'm1', timestamp: new Date(), attempts: 2, body: message }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(['m1']);
    expect(new TextDecoder().decode(await (await env.RESULTS.get(partKey(id, chunk)))!.arrayBuffer())).toBe(before);
    expect((await status(id)).counts).toEqual(part.counts);
  });
});

describe('cancelling', () => {
  it('stops a job: its state stays cancelled, and the prefix can be run again', async () => {
    const { id } = (await (await post({ prefix: 'job/good/', top: 1 })).json()) as { id: string };
    const res = await SELF.fetch(`http://worker/v1/jobs/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as JobStatus).state).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 1500));
    const later = await status(id);
    expect(later.state).toBe('cancelled');
    expect(later.counts.done).toBeLessThanOrEqual(later.counts.listed);
    const again = await post({ prefix: 'job/good/', top: 1 });
    expect(again.status).toBe(202);
    expect(((await again.json()) as { id: string }).id).not.toBe(id);
  });

  it('a second POST while a job runs answers that job (200, created false)', async () => {
    const first = (await (await post({ prefix: 'job/bad/', top: 2 })).json()) as { id: string };
    const second = await post({ prefix: 'job/bad/', top: 2 });
    const body = (await second.json()) as { id: string; created: boolean };
    if (body.created) {
      // The first had already finished (5 small files): then a new run is right.
      expect((await status(first.id)).state).toBe('done');
    } else {
      expect(second.status).toBe(200);
      expect(body.id).toBe(first.id);
    }
    await finished(body.id);
  });
});

describe('the consumer alone', () => {
  /** A run with one pending chunk over `keys`, written straight into the job's object: no alarm, nothing sent. */
  async function pendingChunk(prefix: string, keys: string[]): Promise<ChunkMessage> {
    const stub = env.BATCH_JOBS.get(env.BATCH_JOBS.idFromName(collectionName(prefix, 2)));
    const objectId = stub.id.toString();
    const message: ChunkMessage = { job: `${objectId}-1`, chunk: 'p000000-c0000', top: 2, objects: keys.map((key) => ({ key, etag: 'e', size: 1 })) };
    await runInDurableObject(stub, (_instance, state) => {
      const now = Date.now();
      state.storage.sql.exec(`INSERT INTO runs (run, state, prefix, top, model_sha, listed, pending_chunks, listing_done, created_at, last_progress_at) VALUES (1, 'running', ?, 2, 'sha', ?, 1, 1, ?, ?)`, prefix, keys.length, now, now);
      state.storage.sql.exec(`INSERT INTO chunks (run, chunk, keys, message, state) VALUES (1, ?, ?, ?, 'pending')`, message.chunk, keys.length, JSON.stringify(message));
    });
    return message;
  }

  const deliver = async (queue: string, body: unknown, attempts: number, environment: Env = env) => {
    const batch = createMessageBatch(queue, [{ id: 'm', timestamp: new Date(), attempts, body }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, environment, ctx);
    return getQueueResult(batch, ctx);
  };

  it('retries a chunk whose storage fails and counts nothing until it succeeds', async () => {
    const message = await pendingChunk('unit-retry/', [GOOD[1]!, GOOD[2]!]);
    const failing = { ...env, IMAGES: { get: () => Promise.reject(new Error('R2 is down')) } as unknown as R2Bucket };
    const first = await deliver('edge-resnet-batch', message, 1, failing);
    expect(first.explicitAcks).toEqual([]);
    // (The delay each retry asks for, retryDelaySeconds, is checked in src/batch/batch.test.ts: this result omits it.)
    expect(first.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['m']);
    expect((await deliver('edge-resnet-batch', message, 3, failing)).retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['m']);
    expect((await status(message.job)).counts).toEqual({ listed: 2, done: 0, failed: 0, reused: 0 });
    // The store is back: the same message now completes the job.
    expect((await deliver('edge-resnet-batch', message, 4)).explicitAcks).toEqual(['m']);
    const done = await status(message.job);
    expect([done.state, done.counts.done]).toEqual(['done', 2]);
  });

  it('turns a dead-lettered chunk into one chunk_failed line per key, so the job still ends', async () => {
    const message = await pendingChunk('unit-dlq/', ['unit-dlq/a.jpg', 'unit-dlq/b.jpg', 'unit-dlq/c.jpg']);
    const result = await deliver('edge-resnet-batch-dlq', message, 6);
    expect(result.explicitAcks).toEqual(['m']);
    const s = await status(message.job);
    expect([s.state, s.counts]).toEqual(['done', { listed: 3, done: 0, failed: 3, reused: 0 }]);
    const lines = await resultLines(message.job);
    expect(lines.map((l) => [l.key, l.error.code, l.status])).toEqual(message.objects.map((o) => [o.key, 'chunk_failed', 503]));
  });

  it('acknowledges a message that is not a chunk (logged, never retried)', async () => {
    for (const body of [null, 'text', { job: 'x', chunk: 'c', top: 1, objects: [] }]) {
      expect((await deliver('edge-resnet-batch', body, 1)).explicitAcks).toEqual(['m']);
    }
  });
});
