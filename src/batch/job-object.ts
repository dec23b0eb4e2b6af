/**
 * @module The Durable Object that owns the batch jobs over one prefix (and one `top`): each job is a run of it.
 * It keeps each run's progress in its SQLite storage, lists the prefix one R2 page per alarm and sends the pages'
 * chunks to the queue, and counts each chunk once however often it is delivered. A rerun reads the previous
 * run's result parts for the key range of each page it lists and keeps the answers whose etag and model still
 * hold, so only what changed is classified again.
 *
 * Storage is billed per row written, so the bookkeeping is per chunk and per page, never per key: about three
 * rows per chunk of BATCH_CHUNK_KEYS images (its insert, its completion, the run's counters).
 *
 * Why a Durable Object and alarms rather than a Workflow: a job's state is counters that every chunk updates
 * (hundreds of writes a second at full scale, one object serialising them), and listing is one short step per
 * page that the alarm retries; a Workflow would still need this object for the counters.
 */
import { DurableObject } from 'cloudflare:workers';
import { readConfig } from '../config.js';
import { formatJobId, partKey, resultsPrefix, reusedChunkId } from './job-id.js';
import { planPage } from './plan.js';
import { linesByKey, reusable } from './reuse.js';
import { sendChunks } from './send.js';
import { ACTIVE_STATES, type ChunkMessage, type JobState, type JobStatus, type ListedObject, type ResultLine } from './types.js';

/** One R2 list call: the most keys R2 returns per page. */
const PAGE_KEYS = 1000;
/** Listing steps that may fail in a row (R2 errors) before the job fails; the wait doubles each time from 1 s. */
const MAX_LISTING_FAILURES = 6;

interface RunRow extends Record<string, SqlStorageValue> {
  run: number;
  state: JobState;
  prefix: string;
  top: number;
  model_sha: string;
  /** The earlier run whose answers this one may reuse (null: none). */
  reuse_from: number | null;
  cursor: string | null;
  pages: number;
  listing_done: number;
  listed: number;
  done: number;
  failed: number;
  reused: number;
  pending_chunks: number;
  parts: number;
  rows_written: number;
  created_at: number;
  finished_at: number | null;
  last_progress_at: number;
  listing_failures: number;
  error: string | null;
}

export type BeginAnswer = 'classify' | 'skip';

export class BatchJobs extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Rows written since the run's counters were last updated (added to them in the same transaction). */
  private written = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        run INTEGER PRIMARY KEY, state TEXT NOT NULL, prefix TEXT NOT NULL, top INTEGER NOT NULL, model_sha TEXT NOT NULL,
        reuse_from INTEGER, cursor TEXT, pages INTEGER NOT NULL DEFAULT 0, listing_done INTEGER NOT NULL DEFAULT 0,
        listed INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
        reused INTEGER NOT NULL DEFAULT 0, pending_chunks INTEGER NOT NULL DEFAULT 0, parts INTEGER NOT NULL DEFAULT 0,
        rows_written INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, finished_at INTEGER,
        last_progress_at INTEGER NOT NULL, listing_failures INTEGER NOT NULL DEFAULT 0, error TEXT);
      CREATE TABLE IF NOT EXISTS chunks (
        run INTEGER NOT NULL, chunk TEXT NOT NULL, keys INTEGER NOT NULL, message TEXT, state TEXT NOT NULL,
        PRIMARY KEY (run, chunk)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS pages (
        run INTEGER NOT NULL, page INTEGER NOT NULL, first_key TEXT NOT NULL, last_key TEXT NOT NULL,
        PRIMARY KEY (run, page)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS pages_by_last_key ON pages (run, last_key);
    `);
  }

  private get id(): string {
    return this.ctx.id.toString();
  }

  /** A write whose rows count toward the run's `rows_written`. */
  private write(query: string, ...bindings: unknown[]): void {
    this.written += this.sql.exec(query, ...bindings).rowsWritten;
  }

  /** Updates the run's row, adding the rows written since the last such update (and this one). */
  private updateRun(run: number, assignments: string, ...bindings: unknown[]): void {
    const rows = this.written + 1;
    this.written = 0;
    this.sql.exec(`UPDATE runs SET ${assignments}, rows_written = rows_written + ? WHERE run = ?`, ...bindings, rows, run);
  }

  private row(run: number): RunRow | null {
    return this.sql.exec<RunRow>('SELECT * FROM runs WHERE run = ?', run).toArray()[0] ?? null;
  }

  private chunkState(run: number, chunk: string): string | undefined {
    return this.sql.exec<{ state: string }>('SELECT state FROM chunks WHERE run = ? AND chunk = ?', run, chunk).toArray()[0]?.state;
  }

  private activeRun(): RunRow | null {
    return this.sql.exec<RunRow>(`SELECT * FROM runs WHERE state IN ('listing', 'running') ORDER BY run DESC LIMIT 1`).toArray()[0] ?? null;
  }

  /** Starts a run over `prefix`, or answers the run already going (one at a time per prefix and top). */
  async start(prefix: string, top: number, modelSha: string): Promise<{ id: string; created: boolean }> {
    const active = this.activeRun();
    if (active) return { id: formatJobId(this.id, active.run), created: false };
    const now = Date.now();
    const last = this.sql.exec<{ run: number | null }>('SELECT MAX(run) AS run FROM runs').one().run ?? 0;
    // The latest run that wrote answers: it holds (in its parts) the answers of every run before it that it reused.
    const earlier = this.sql.exec<{ run: number }>(`SELECT run FROM runs WHERE parts > 0 ORDER BY run DESC LIMIT 1`).toArray()[0]?.run ?? null;
    this.written = 0;
    this.sql.exec(
      'INSERT INTO runs (run, state, prefix, top, model_sha, reuse_from, created_at, last_progress_at, rows_written) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)',
      last + 1,
      'listing',
      prefix,
      top,
      modelSha,
      earlier,
      now,
      now,
    );
    await this.ctx.storage.setAlarm(now);
    return { id: formatJobId(this.id, last + 1), created: true };
  }

  /** The run's status, or null when there is no such run. Also re-arms a lost alarm (a restarted local runtime). */
  async status(run: number, baseUrl: string): Promise<JobStatus | null> {
    const row = this.row(run);
    if (!row) return null;
    if (ACTIVE_STATES.includes(row.state) && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
    return describeRun(row, formatJobId(this.id, run), baseUrl);
  }

  /** Cancels an active run: chunks not yet classified are skipped. Null when there is no such run. */
  cancel(run: number): JobState | null {
    const row = this.row(run);
    if (!row) return null;
    if (ACTIVE_STATES.includes(row.state)) this.updateRun(run, `state = 'cancelled', finished_at = ?`, Date.now());
    return this.row(run)!.state;
  }

  /** Whether a delivered chunk still needs classifying: not when it is counted already or its run stopped. */
  beginChunk(run: number, chunk: string): BeginAnswer {
    const row = this.row(run);
    return row && ACTIVE_STATES.includes(row.state) && this.chunkState(run, chunk) === 'pending' ? 'classify' : 'skip';
  }

  /** Counts a chunk whose part is written: once, however many times it is delivered. */
  finishChunk(run: number, chunk: string, answered: number, failed: number): void {
    if (!this.row(run) || this.chunkState(run, chunk) !== 'pending') return;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.write(`UPDATE chunks SET state = 'done', message = NULL WHERE run = ? AND chunk = ?`, run, chunk);
      this.updateRun(run, 'done = done + ?, failed = failed + ?, pending_chunks = pending_chunks - 1, parts = parts + 1, last_progress_at = ?', answered, failed, now);
      this.finishIfComplete(run, now);
    });
  }

  /** The run's written parts (chunk ids) in listing order, `limit` of them after `after` ("" for the first). */
  parts(run: number, after: string, limit: number): string[] {
    return this.sql
      .exec<{ chunk: string }>(`SELECT chunk FROM chunks WHERE run = ? AND state = 'done' AND chunk > ? ORDER BY chunk LIMIT ?`, run, after, limit)
      .toArray()
      .map((r) => r.chunk);
  }

  /** One step of the active run: list the next page while listing, else send lost chunks again when it stalls. */
  override async alarm(): Promise<void> {
    const row = this.activeRun();
    if (!row) return;
    const config = readConfig(this.env);
    const now = Date.now();
    if (!row.listing_done) {
      try {
        await this.listPage(row, config.BATCH_CHUNK_KEYS);
      } catch (err) {
        const failures = row.listing_failures + 1;
        const message = `listing ${JSON.stringify(row.prefix)} failed: ${err instanceof Error ? err.message : String(err)}`;
        console.error(message);
        if (failures >= MAX_LISTING_FAILURES) {
          this.updateRun(row.run, `state = 'failed', error = ?, finished_at = ?, listing_failures = ?`, message, now, failures);
          return;
        }
        this.updateRun(row.run, 'listing_failures = ?', failures);
        await this.ctx.storage.setAlarm(now + 1000 * 2 ** (failures - 1));
        return;
      }
      const after = this.row(row.run)!;
      if (ACTIVE_STATES.includes(after.state)) await this.ctx.storage.setAlarm(after.listing_done ? now + stallCheckMs(config.BATCH_STALL_SECONDS) : Date.now());
      return;
    }
    if (row.pending_chunks > 0 && now - row.last_progress_at > config.BATCH_STALL_SECONDS * 1000) {
      const lost = this.sql
        .exec<{ message: string }>(`SELECT message FROM chunks WHERE run = ? AND state = 'pending' ORDER BY chunk`, row.run)
        .toArray()
        .map((r) => JSON.parse(r.message) as ChunkMessage);
      console.warn(`job ${formatJobId(this.id, row.run)}: no chunk finished for ${config.BATCH_STALL_SECONDS} s; sending its ${lost.length} pending chunks again`);
      await sendChunks(this.env.BATCH_QUEUE, lost);
      this.updateRun(row.run, 'last_progress_at = ?', now);
    }
    await this.ctx.storage.setAlarm(now + stallCheckMs(config.BATCH_STALL_SECONDS));
  }

  /**
   * The earlier run's answers for keys in [first, last]: the parts of its pages that overlap the range (pages of
   * one run never overlap, and come in key order, so the first few by last key are the ones).
   */
  private async earlierLines(earlier: number, first: string, last: string): Promise<Map<string, ResultLine>> {
    const lines = new Map<string, ResultLine>();
    const pages = this.sql
      .exec<{ page: number; first_key: string }>('SELECT page, first_key FROM pages WHERE run = ? AND last_key >= ? ORDER BY last_key LIMIT 8', earlier, first)
      .toArray()
      .filter((p) => p.first_key <= last);
    const jobId = formatJobId(this.id, earlier);
    for (const { page } of pages) {
      const name = `p${String(page).padStart(6, '0')}-`;
      const chunks = this.sql.exec<{ chunk: string }>(`SELECT chunk FROM chunks WHERE run = ? AND chunk >= ? AND chunk < ? AND state = 'done'`, earlier, name, `${name}~`).toArray();
      for (const { chunk } of chunks) {
        const part = await this.env.RESULTS.get(partKey(jobId, chunk));
        // (decoded here: workerd warns on .text() of a body whose type is not text/*, as JSONL's is)
        if (part) linesByKey(new TextDecoder().decode(await part.arrayBuffer()), lines); // a part deleted since: its keys are classified again
      }
    }
    return lines;
  }

  /**
   * Lists one page, records its chunks (and writes the part of the answers it reuses), sends them, then moves the
   * cursor. A step that fails after sending is listed again: the same chunk ids, already recorded, so nothing is
   * counted twice (a chunk sent twice is classified twice and stored once).
   */
  private async listPage(row: RunRow, chunkKeys: number): Promise<void> {
    const jobId = formatJobId(this.id, row.run);
    const listing = await this.env.IMAGES.list({ prefix: row.prefix, limit: PAGE_KEYS, ...(row.cursor ? { cursor: row.cursor } : {}) });
    const objects: ListedObject[] = listing.objects.map((o) => ({ key: o.key, etag: o.etag, size: o.size }));
    const page = row.pages;
    const earlier = row.reuse_from !== null && objects.length > 0 ? await this.earlierLines(row.reuse_from, objects[0]!.key, objects[objects.length - 1]!.key) : new Map<string, ResultLine>();
    const earlierModel = row.reuse_from !== null ? (this.row(row.reuse_from)?.model_sha ?? '') : '';
    const plan = planPage(jobId, page, row.top, objects, chunkKeys, (o) => {
      const line = earlier.get(o.key);
      return reusable(line, o, row.model_sha, earlierModel) ? JSON.stringify(line) : null;
    });
    const reusedChunk = reusedChunkId(page);
    if (plan.reused.length > 0) await this.env.RESULTS.put(partKey(jobId, reusedChunk), plan.reused.join('\n') + '\n', { httpMetadata: { contentType: 'application/x-ndjson' } });
    const next = listing.truncated ? listing.cursor : null;
    const now = Date.now();
    const fresh = this.ctx.storage.transactionSync(() => {
      const unsent: ChunkMessage[] = [];
      for (const message of plan.messages) {
        if (this.chunkState(row.run, message.chunk) !== undefined) continue; // recorded by an earlier try of this step
        this.write(`INSERT INTO chunks (run, chunk, keys, message, state) VALUES (?, ?, ?, ?, 'pending')`, row.run, message.chunk, message.objects.length, JSON.stringify(message));
        unsent.push(message);
      }
      if (objects.length > 0 && this.sql.exec('SELECT 1 FROM pages WHERE run = ? AND page = ?', row.run, page).toArray().length === 0) {
        this.write('INSERT INTO pages (run, page, first_key, last_key) VALUES (?, ?, ?, ?)', row.run, page, objects[0]!.key, objects[objects.length - 1]!.key);
        const failedReused = plan.reused.filter((l) => 'error' in (JSON.parse(l) as object)).length;
        if (plan.reused.length > 0) this.write(`INSERT INTO chunks (run, chunk, keys, message, state) VALUES (?, ?, ?, NULL, 'done')`, row.run, reusedChunk, plan.reused.length);
        this.updateRun(
          row.run,
          'listed = listed + ?, pending_chunks = pending_chunks + ?, done = done + ?, failed = failed + ?, reused = reused + ?, parts = parts + ?',
          objects.length,
          plan.messages.length,
          plan.reused.length - failedReused,
          failedReused,
          plan.reused.length,
          plan.reused.length > 0 ? 1 : 0,
        );
      }
      return unsent;
    });
    await sendChunks(this.env.BATCH_QUEUE, fresh);
    this.ctx.storage.transactionSync(() => {
      const listingDone = next === null ? 1 : 0;
      this.updateRun(
        row.run,
        `cursor = ?, pages = pages + 1, listing_done = ?, last_progress_at = ?, listing_failures = 0,
         state = CASE WHEN state = 'listing' AND ? = 1 THEN 'running' ELSE state END`,
        next,
        listingDone,
        now,
        listingDone,
      );
      this.finishIfComplete(row.run, now);
    });
  }

  private finishIfComplete(run: number, now: number): void {
    this.write(`UPDATE runs SET state = 'done', finished_at = ? WHERE run = ? AND state IN ('listing', 'running') AND listing_done = 1 AND pending_chunks = 0`, now, run);
  }
}

/** How often a running job looks for lost chunks: twice per stall period, at least every second. */
const stallCheckMs = (stallSeconds: number) => Math.max(1000, (stallSeconds * 1000) / 2);

function describeRun(row: RunRow, id: string, baseUrl: string): JobStatus {
  const active = ACTIVE_STATES.includes(row.state);
  const end = row.finished_at ?? Date.now();
  const classified = row.done + row.failed - row.reused;
  const seconds = (end - row.created_at) / 1000;
  const rate = classified > 0 && seconds > 0 ? classified / seconds : null;
  const remaining = row.listed - row.done - row.failed;
  return {
    id,
    state: row.state,
    prefix: row.prefix,
    top: row.top,
    model_sha256: row.model_sha,
    counts: { listed: row.listed, done: row.done, failed: row.failed, reused: row.reused },
    images_per_second: rate === null ? null : Math.round(rate * 100) / 100,
    eta_seconds: !active ? 0 : row.listing_done && rate !== null ? Math.round(remaining / rate) : null,
    created_at: new Date(row.created_at).toISOString(),
    finished_at: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    error: row.error,
    results: { url: `${baseUrl}/v1/jobs/${id}/results`, bucket_binding: 'RESULTS', prefix: resultsPrefix(id), parts: row.parts },
    storage_rows_written: row.rows_written,
  };
}
