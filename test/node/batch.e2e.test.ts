/**
 * End to end: `pipeline batch` against the Worker started as `npm start` does (local R2, queue, Durable Object in
 * wrangler dev) on 500 files — 472 images and every kind of bad file — with the dev server stopped mid-job and
 * started again on the same state and port while the command follows the job: every key gets exactly one line,
 * bad files their codes, good images /predict's answer.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobStatus } from '../../src/batch/types.js';
import { freePort, startWorker, type RunningWorker } from '../../bench/lib/worker-server.js';
import { seededRandom } from '../../training/data/random.js';
import { drawShape, SHAPE_CLASSES } from '../../training/data/shapes.js';
import { batchCommand, type BatchSummary } from '../../training/commands/batch.js';
import { keysUrlsWouldChange } from '../../training/batch/upload.js';

const GOOD = 472;
/** Each bad kind, how many, and the code its line must carry. MAX_BODY_BYTES is 300 KB on this server. */
const BAD_KINDS = {
  corrupt: { count: 8, code: 'corrupt_image' },
  truncated: { count: 8, code: 'truncated_image' },
  oversized: { count: 4, code: 'body_too_large' },
  text: { count: 8, code: 'unsupported_format' },
} as const;
const VARS = ['BATCH_STALL_SECONDS=3', 'BATCH_CHUNK_KEYS=10', 'MAX_BODY_BYTES=300000'];

let work: string;
let state: string;
let images: string;
let port: number;
let worker: RunningWorker | null = null;
const expectedCode = new Map<string, string | null>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'edge-resnet-batch-e2e-'));
  state = join(work, 'state');
  images = join(work, 'catalogue');
  const random = seededRandom(7);
  for (let i = 0; i < GOOD; i++) {
    const shape = drawShape(SHAPE_CLASSES[i % SHAPE_CLASSES.length]!, 48 + (i % 5) * 8, random);
    const raw = sharp(shape.rgba, { raw: { width: shape.width, height: shape.height, channels: 4 } });
    const dir = join(images, `shelf-${i % 4}`);
    await mkdir(dir, { recursive: true });
    // A few names a URL would change ("#", "?", "%", spaces, non-ASCII): the key must still be the file's path.
    const odd = ['café #1', '100% sure?', 'a  b', 'x..y'][i] ?? '';
    const name = `${odd}${String(i).padStart(3, '0')}.${i % 3 === 0 ? 'png' : 'jpg'}`;
    await writeFile(join(dir, name), i % 3 === 0 ? await raw.png().toBuffer() : await raw.jpeg({ quality: 85 }).toBuffer());
    expectedCode.set(`catalogue/shelf-${i % 4}/${name}`, null);
  }
  const sample = await sharp(drawShape('circle', 96, random).rgba, { raw: { width: 96, height: 96, channels: 4 } }).jpeg().toBuffer();
  await mkdir(join(images, 'bad'), { recursive: true });
  const bad = (kind: keyof typeof BAD_KINDS, i: number) => `bad/${kind}-${i}.${kind === 'text' ? 'txt' : 'jpg'}`;
  for (let i = 0; i < BAD_KINDS.corrupt.count; i++) await writeFile(join(images, bad('corrupt', i)), Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, i, 0, 0, 0]));
  for (let i = 0; i < BAD_KINDS.truncated.count; i++) await writeFile(join(images, bad('truncated', i)), sample.subarray(0, Math.floor(sample.byteLength * (0.3 + i * 0.05))));
  for (let i = 0; i < BAD_KINDS.oversized.count; i++) await writeFile(join(images, bad('oversized', i)), Buffer.concat([sample, Buffer.alloc(300_001)]));
  for (let i = 0; i < BAD_KINDS.text.count; i++) await writeFile(join(images, bad('text', i)), `line ${i}\n`);
  for (const [kind, { count, code }] of Object.entries(BAD_KINDS)) for (let i = 0; i < count; i++) expectedCode.set(`catalogue/${bad(kind as keyof typeof BAD_KINDS, i)}`, code);
  port = await freePort();
  worker = await startWorker(inject('testModelDir'), VARS, { persistTo: state, port });
});

afterAll(async () => {
  await worker?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('pipeline batch over a restarted dev server', () => {
  let summary: BatchSummary;
  let lines: Array<Record<string, any>>;
  let atStop: JobStatus | null = null;
  const log: string[] = [];

  beforeAll(async () => {
    const out = join(work, 'results.jsonl');
    const running = batchCommand({ images, url: `http://127.0.0.1:${port}`, remote: false, persistTo: state, top: 5, out, pollMs: 250, log: (l) => log.push(l) });
    // Stop the server as soon as the job has answered some keys but not all, then start it again.
    const deadline = Date.now() + 240_000;
    while (!atStop && Date.now() < deadline) {
      const url = log.map((l) => /https?:\/\/\S+\/v1\/jobs\/\S+/.exec(l)?.[0]).find(Boolean);
      const s = url ? ((await (await fetch(url)).json()) as JobStatus) : null;
      if (s && s.counts.done + s.counts.failed > 0) atStop = s;
      else await new Promise((r) => setTimeout(r, 50));
    }
    await worker!.stop();
    worker = await startWorker(inject('testModelDir'), VARS, { persistTo: state, port });
    summary = await running;
    lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  });

  it('was stopped mid-job, and the command kept following it', () => {
    expect(atStop).not.toBeNull();
    expect(atStop!.counts.done + atStop!.counts.failed).toBeLessThan(GOOD + 28);
    expect(log.some((l) => l.includes('does not answer'))).toBe(true);
    expect(summary.state).toBe('done');
  });

  it('ends with exact counts: one line per file, none lost, none twice', () => {
    const bad = Object.values(BAD_KINDS).reduce((n, k) => n + k.count, 0);
    expect(expectedCode.size).toBe(GOOD + bad);
    expect(summary.counts).toEqual({ listed: GOOD + bad, done: GOOD, failed: bad, reused: 0 });
    expect(lines).toHaveLength(GOOD + bad);
    expect(new Set(lines.map((l) => l.key))).toEqual(new Set(expectedCode.keys()));
  });

  it("keeps its bookkeeping per chunk, not per key (Durable Object storage is billed per row written)", async () => {
    const status = (await (await fetch(`${worker!.base}/v1/jobs/${summary.job}`)).json()) as JobStatus;
    // 50 chunks of 10 keys: about three rows each (insert, completion, counters), whatever the restart re-sent.
    expect(status.storage_rows_written).toBeGreaterThan(50);
    expect(status.storage_rows_written).toBeLessThan(lines.length / 2);
  });

  it('gives each bad file its code and each image a label', () => {
    for (const line of lines) {
      const code = expectedCode.get(line.key);
      if (code) expect([line.key, line.error?.code]).toEqual([line.key, code]);
      else expect([line.key, line.top?.length]).toEqual([line.key, 5]);
    }
  });

  it("answers images as /predict does for the same file", async () => {
    const good = lines.filter((l) => !l.error);
    for (const line of good.filter((_, i) => i % 24 === 0)) {
      const bytes = await readFile(join(images, line.key.slice('catalogue/'.length)));
      const predicted = (await (await fetch(`${worker!.base}/predict?top=5`, { method: 'POST', body: bytes })).json()) as Record<string, unknown>;
      expect({ label: line.label, confidence: line.confidence, top: line.top }, line.key).toEqual({ label: predicted.label, confidence: predicted.confidence, top: predicted.top });
    }
  });
});

describe('pipeline batch on the command line', () => {
  it('names the files whose keys a remote upload would change (wrangler puts keys in a URL unescaped)', () => {
    const objects = ['a/ok-1.jpg', 'a/café.jpg', 'a/x#1.jpg', 'a/100%.jpg', 'a/what?.jpg', 'a/sp ace.jpg', 'a/../b.jpg'].map((key) => ({ key, file: key }));
    expect(keysUrlsWouldChange(objects).map((o) => o.key)).toEqual(['a/café.jpg', 'a/x#1.jpg', 'a/100%.jpg', 'a/what?.jpg', 'a/sp ace.jpg', 'a/../b.jpg']);
  });

  it('exits 2 for a folder that is not there, naming it, before anything is uploaded', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'training/cli.ts', 'batch', '--images', '/nonexistent-folder', '--out', 'x.jsonl'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--images /nonexistent-folder: not a folder');
  });

  it('refuses a run with neither --images nor --prefix, and --remote toward a local Worker', async () => {
    await expect(batchCommand({ url: 'http://127.0.0.1:1', remote: false, top: 5, out: 'x.jsonl', log: () => {} })).rejects.toThrow(/give --images DIR .* or --prefix P/);
    await expect(batchCommand({ images: '.', url: 'http://127.0.0.1:8787', remote: true, top: 5, out: 'x.jsonl', log: () => {} })).rejects.toThrow(/is a local Worker: give --url of the deployed one/);
  });
});
