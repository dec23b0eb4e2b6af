/** The batch job's pure parts: chunking a listed page, fitting sends into Queues' limits, retry delays, job ids, messages. */
import { describe, expect, it } from 'vitest';
import { parseChunkMessage, retryDelaySeconds } from './message.js';
import { chunkId, formatJobId, parseJobId, reusedChunkId } from './job-id.js';
import { planPage } from './plan.js';
import { linesByKey, reusable } from './reuse.js';
import { sendGroups } from './send.js';
import type { ChunkMessage, ListedObject } from './types.js';

const objects = (n: number, keyBytes = 10): ListedObject[] => Array.from({ length: n }, (_, i) => ({ key: `k${String(i).padStart(keyBytes, '0')}`, etag: `e${i}`, size: i }));
const JOB = `${'ab'.repeat(32)}-3`;

describe('planPage', () => {
  it('splits the keys it does not know into chunks of chunkKeys, in listing order, and reuses the lines it knows', () => {
    const listed = objects(45);
    const plan = planPage(JOB, 7, 5, listed, 20, (o) => (Number(o.etag.slice(1)) % 10 === 0 ? `line ${o.key}` : null));
    expect(plan.reused).toEqual(['line k0000000000', 'line k0000000010', 'line k0000000020', 'line k0000000030', 'line k0000000040']);
    expect(plan.messages.map((m) => [m.chunk, m.objects.length])).toEqual([['p000007-c0000', 20], ['p000007-c0001', 20]]);
    expect(plan.messages.flatMap((m) => m.objects)).toEqual(listed.filter((o) => Number(o.etag.slice(1)) % 10 !== 0));
    expect(plan.messages.every((m) => m.job === JOB && m.top === 5)).toBe(true);
  });

  it('makes the same chunk ids when the same page is listed again (a retried listing step)', () => {
    const a = planPage(JOB, 2, 5, objects(50), 20, () => null);
    const b = planPage(JOB, 2, 5, objects(50), 20, () => null);
    expect(b).toEqual(a);
    expect(a.messages.map((m) => m.chunk)).toEqual(['p000002-c0000', 'p000002-c0001', 'p000002-c0002']);
  });

  it('sorts chunk ids in listing order, the reused part after the page\'s chunks', () => {
    const ids = [reusedChunkId(10), chunkId(9, 1), chunkId(10, 0), chunkId(9, 0), chunkId(10, 11), chunkId(10, 2)];
    expect([...ids].sort()).toEqual([chunkId(9, 0), chunkId(9, 1), chunkId(10, 0), chunkId(10, 2), chunkId(10, 11), reusedChunkId(10)]);
  });
});

describe('sendGroups', () => {
  const message = (i: number, keyBytes: number): ChunkMessage => ({ job: JOB, chunk: chunkId(0, i), top: 5, objects: objects(20, keyBytes) });
  const bytes = (m: ChunkMessage[]) => m.reduce((n, x) => n + JSON.stringify(x).length, 0);

  it('puts at most 100 messages in a sendBatch', () => {
    const groups = sendGroups(Array.from({ length: 250 }, (_, i) => message(i, 4)));
    expect(groups.map((g) => g.length)).toEqual([100, 100, 50]);
  });

  it('keeps each sendBatch under 256 KB when keys are long (R2 keys reach 1,024 bytes)', () => {
    const all = Array.from({ length: 30 }, (_, i) => message(i, 1000));
    const groups = sendGroups(all);
    expect(groups.length).toBeGreaterThan(1);
    for (const g of groups) expect(bytes(g)).toBeLessThan(256 * 1024);
    expect(groups.flat()).toEqual(all);
    // and one message stays under Queues' 128 KB even at the largest chunk (100 keys of 1,024 bytes)
    expect(JSON.stringify({ ...message(0, 1024), objects: objects(100, 1023) }).length).toBeLessThan(128 * 1024);
  });
});

describe('retries, ids, messages', () => {
  it('waits 10 s before the first retry, doubling to at most 5 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 9].map(retryDelaySeconds)).toEqual([10, 20, 40, 80, 160, 300, 300]);
  });

  it('reads back the job ids it writes, and nothing else', () => {
    expect(parseJobId(formatJobId('f'.repeat(64), 12))).toEqual({ objectId: 'f'.repeat(64), run: 12 });
    for (const bad of ['', 'x-1', `${'f'.repeat(64)}-0`, `${'f'.repeat(63)}-1`, `${'F'.repeat(64)}-1`, `${'f'.repeat(64)}-1/../x`]) expect(parseJobId(bad), bad).toBeNull();
  });

  it('accepts only well-formed chunk messages', () => {
    const good: ChunkMessage = { job: JOB, chunk: 'p000000-c0000', top: 5, objects: objects(2) };
    expect(parseChunkMessage(good)).toEqual(good);
    for (const bad of [null, 'x', { ...good, job: 'nope' }, { ...good, top: '5' }, { ...good, objects: [{ key: 'a' }] }, { ...good, objects: 'a' }]) expect(parseChunkMessage(bad)).toBeNull();
  });
});

describe('reusable', () => {
  const object = { key: 'a/1.jpg', etag: 'e1', size: 10 };
  const label = { key: 'a/1.jpg', etag: 'e1', class: 0, label: 'cat', confidence: 0.9, top: [], model: { name: 'm', version: '1', sha256: 'S' } };
  const error = (code: string) => ({ key: 'a/1.jpg', etag: 'e1', error: { code, message: '' }, status: 422 });

  it('takes an answer for the same key, etag and model', () => {
    expect(reusable(label, object, 'S', 'S')).toBe(true);
    expect(reusable(label, object, 'S', 'older')).toBe(true); // the line names its own model
  });

  it('classifies again when the content or the model changed, or there is no answer', () => {
    expect(reusable(label, { ...object, etag: 'e2' }, 'S', 'S')).toBe(false);
    expect(reusable(label, object, 'T', 'T')).toBe(false);
    expect(reusable({ ...label, key: 'a/2.jpg' }, object, 'S', 'S')).toBe(false);
    expect(reusable(undefined, object, 'S', 'S')).toBe(false);
  });

  it("keeps an image's own error under the same model, never a failure around it", () => {
    expect(reusable(error('corrupt_image'), object, 'S', 'S')).toBe(true);
    expect(reusable(error('corrupt_image'), object, 'S', 'older')).toBe(false);
    expect(reusable(error('chunk_failed'), object, 'S', 'S')).toBe(false);
    expect(reusable(error('object_missing'), object, 'S', 'S')).toBe(false);
  });

  it('reads a part (JSONL) by key, the last line of a key winning', () => {
    const map = linesByKey(`${JSON.stringify(label)}\n${JSON.stringify(error('corrupt_image'))}\n\n`);
    expect([...map.keys()]).toEqual(['a/1.jpg']);
    expect(map.get('a/1.jpg')).toEqual(error('corrupt_image'));
  });
});
