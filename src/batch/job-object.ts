/**
 * @module The Durable Object that owns the batch jobs over one prefix (and one `top`): each job is a run of it.
 * It keeps each run's progress in its SQLite storage, lists the prefix one R2 page per alarm and sends the pages'
 * chunks to the queue, and counts each chunk once however often it is delivered. Its ledger — the last answer
 * for each key, with the etag and model that gave it — lets a rerun reuse what has not changed.
 *
 * Why a Durable Object and alarms rather than a Workflow: a job's state is counters that every chunk updates
 * (hundreds of writes a second at full scale, one object serialising them), and listing is one short step per
 * page that the alarm retries; a Workflow would still need this object for the counters.
 */
import { DurableObject } from 'cloudflare:workers';
import { readConfig } from '../config.js';
import { formatJobId, partKey, resultsPrefix, reusedChunkId } from './job-id.js';
import { planPage } from './plan.js';
import { sendChunks } from './send.js';
import { ACTIVE_STATES, isErrorLine, TRANSIENT_LINE_CODES, type ChunkMessage, type JobState, type JobStatus, type ResultLine } from './types.js';

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
  cursor: string | null;
  pages: number;
  listing_done: number;
  listed: number;
  done: number;
  failed: number;
  reused: number;
  pending_chunks: number;
  parts: number;
  created_at: number;
  finished_at: number | null;
  last_progress_at: number;
  listing_failures: number;
  error: string | null;
}

export type BeginAnswer = 'classify' | 'skip';

export class BatchJobs extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        run INTEGER PRIMARY KEY, state TEXT NOT NULL, prefix TEXT NOT NULL, top INTEGER NOT NULL, model_sha TEXT NOT NULL,
        cursor TEXT, pages INTEGER NOT NULL DEFAULT 0, listing_done INTEGER NOT NULL DEFAULT 0,
        listed INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
        reused INTEGER NOT NULL DEFAULT 0, pending_chunks INTEGER NOT NULL DEFAULT 0, parts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL, finished_at INTEGER, last_progress_at INTEGER NOT NULL,
        listing_failures INTEGER NOT NULL DEFAULT 0, error TEXT);
      CREATE TABLE IF NOT EXISTS chunks (
        run INTEGER NOT NULL, chunk TEXT NOT NULL, keys INTEGER NOT NULL, message TEXT,
        state TEXT NOT NULL, PRIMARY KEY (run, chunk));
      CREATE TABLE IF NOT EXISTS ledger (key TEXT PRIMARY KEY, etag TEXT NOT NULL, model_sha TEXT NOT NULL, line TEXT NOT NULL);
    `);
  }

  private get id(): string {
    return this.ctx.id.toString();
  }

  private row(run: number): RunRow | null {
    return this.sql.exec<RunRow>('SELECT * FROM runs WHERE run = ?', run).toArray()[0] ?? null;
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
    const run = last + 1;
    this.sql.exec('INSERT INTO runs (run, state, prefix, top, model_sha, created_at, last_progress_at) VALUES (?, ?, ?, ?, ?, ?, ?)', run, 'listing', prefix, top, modelSha, now, now);
    await this.ctx.storage.setAlarm(now);
    return { id: formatJobId(this.id, run), created: true };
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
    if (ACTIVE_STATES.includes(row.state)) this.sql.exec(`UPDATE runs SET state = 'cancelled', finished_at = ? WHERE run = ?`, Date.now(), run);
    return this.row(run)!.state;
  }

  /** Whether a delivered chunk still needs classifying: not when it is counted already or its run stopped. */
  beginChunk(run: number, chunk: string): BeginAnswer {
    const row = this.row(run);
    const state = this.sql.exec<{ state: string }>('SELECT state FROM chunks WHERE run = ? AND chunk = ?', run, chunk).toArray()[0]?.state;
    return row && ACTIVE_STATES.includes(row.state) && state === 'pending' ? 'classify' : 'skip';
  }

  /**
   * Counts a chunk whose part is written: once, however many times it is delivered. Lines that are the image's
   * own answer (a label or an error of the image) go into the ledger for reruns; lines of a failed delivery do not.
   */
  finishChunk(run: number, chunk: string, lines: ResultLine[], modelSha: string): void {
    const row = this.row(run);
    const state = this.sql.exec<{ state: string }>('SELECT state FROM chunks WHERE run = ? AND chunk = ?', run, chunk).toArray()[0]?.state;
    if (!row || state !== 'pending') return;
    const failed = lines.filter(isErrorLine).length;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(`UPDATE chunks SET state = 'done', message = NULL WHERE run = ? AND chunk = ?`, run, chunk);
      this.sql.exec(
        'UPDATE runs SET done = done + ?, failed = failed + ?, pending_chunks = pending_chunks - 1, parts = parts + 1, last_progress_at = ? WHERE run = ?',
        lines.length - failed,
        failed,
        now,
        run,
      );
      for (const line of lines) {
        if (isErrorLine(line) && TRANSIENT_LINE_CODES.has(line.error.code)) continue;
        const sha = isErrorLine(line) ? modelSha : line.model.sha256;
        this.sql.exec('INSERT OR REPLACE INTO ledger (key, etag, model_sha, line) VALUES (?, ?, ?, ?)', line.key, line.etag, sha, JSON.stringify(line));
      }
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
        this.sql.exec('UPDATE runs SET listing_failures = 0 WHERE run = ?', row.run);
      } catch (err) {
        const failures = row.listing_failures + 1;
        const message = `listing ${JSON.stringify(row.prefix)} failed: ${err instanceof Error ? err.message : String(err)}`;
        console.error(message);
        if (failures >= MAX_LISTING_FAILURES) {
          this.sql.exec(`UPDATE runs SET state = 'failed', error = ?, finished_at = ?, listing_failures = ? WHERE run = ?`, message, now, failures, row.run);
          return;
        }
        this.sql.exec('UPDATE runs SET listing_failures = ? WHERE run = ?', failures, row.run);
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
      this.sql.exec('UPDATE runs SET last_progress_at = ? WHERE run = ?', now, row.run);
    }
    await this.ctx.storage.setAlarm(now + stallCheckMs(config.BATCH_STALL_SECONDS));
  }

  /**
   * Lists one page, records its chunks (and writes the part of the lines it reuses), sends them, then moves the
   * cursor. A step that fails after sending is listed again: the same chunk ids, already recorded, so nothing is
   * counted twice (a chunk sent twice is classified twice and stored once).
   */
  private async listPage(row: RunRow, chunkKeys: number): Promise<void> {
    const jobId = formatJobId(this.id, row.run);
    const listing = await this.env.IMAGES.list({ prefix: row.prefix, limit: PAGE_KEYS, ...(row.cursor ? { cursor: row.cursor } : {}) });
    const objects = listing.objects.map((o) => ({ key: o.key, etag: o.etag, size: o.size }));
    const page = row.pages;
    const plan = planPage(jobId, page, row.top, objects, chunkKeys, (o) =>
      this.sql.exec<{ line: string }>('SELECT line FROM ledger WHERE key = ? AND etag = ? AND model_sha = ?', o.key, o.etag, row.model_sha).toArray()[0]?.line ?? null,
    );
    const reusedChunk = reusedChunkId(page);
    if (plan.reused.length > 0) await this.env.RESULTS.put(partKey(jobId, reusedChunk), plan.reused.join('\n') + '\n');
    const next = listing.truncated ? listing.cursor : null;
    const now = Date.now();
    const newMessages = this.ctx.storage.transactionSync(() => {
      const fresh: ChunkMessage[] = [];
      for (const message of plan.messages) {
        const known = this.sql.exec('SELECT 1 FROM chunks WHERE run = ? AND chunk = ?', row.run, message.chunk).toArray().length > 0;
        if (known) continue;
        this.sql.exec(`INSERT INTO chunks (run, chunk, keys, message, state) VALUES (?, ?, ?, ?, 'pending')`, row.run, message.chunk, message.objects.length, JSON.stringify(message));
        fresh.push(message);
      }
      if (plan.reused.length > 0 && this.sql.exec('SELECT 1 FROM chunks WHERE run = ? AND chunk = ?', row.run, reusedChunk).toArray().length === 0) {
        this.sql.exec(`INSERT INTO chunks (run, chunk, keys, message, state) VALUES (?, ?, ?, NULL, 'done')`, row.run, reusedChunk, plan.reused.length);
        const failed = plan.reused.filter((l) => 'error' in (JSON.parse(l) as object)).length;
        this.sql.exec('UPDATE runs SET done = done + ?, failed = failed + ?, reused = reused + ?, parts = parts + 1 WHERE run = ?', plan.reused.length - failed, failed, plan.reused.length, row.run);
      }
      const pending = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM chunks WHERE run = ? AND state = 'pending'`, row.run).one().n;
      const keys = this.sql.exec<{ n: number | null }>('SELECT SUM(keys) AS n FROM chunks WHERE run = ?', row.run).one().n ?? 0;
      this.sql.exec('UPDATE runs SET listed = ?, pending_chunks = ? WHERE run = ?', keys, pending, row.run);
      return fresh;
    });
    await sendChunks(this.env.BATCH_QUEUE, newMessages);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `UPDATE runs SET cursor = ?, pages = pages + 1, listing_done = ?, last_progress_at = ?,
           state = CASE WHEN state = 'listing' AND ? = 1 THEN 'running' ELSE state END WHERE run = ?`,
        next,
        next === null ? 1 : 0,
        now,
        next === null ? 1 : 0,
        row.run,
      );
      this.finishIfComplete(row.run, now);
    });
  }

  private finishIfComplete(run: number, now: number): void {
    this.sql.exec(`UPDATE runs SET state = 'done', finished_at = ? WHERE run = ? AND state IN ('listing', 'running') AND listing_done = 1 AND pending_chunks = 0`, now, run);
  }
}

/** How often a running job looks for lost chunks: twice per stall period, at least every second. */
const stallCheckMs = (stallSeconds: number) => Math.max(1000, (stallSeconds * 1000) / 2);

function describeRun(row: RunRow, id: string, baseUrl: string): JobStatus {
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
    eta_seconds: ACTIVE_STATES.includes(row.state) && row.listing_done && rate !== null ? Math.round(remaining / rate) : ACTIVE_STATES.includes(row.state) ? null : 0,
    created_at: new Date(row.created_at).toISOString(),
    finished_at: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    error: row.error,
    results: { url: `${baseUrl}/v1/jobs/${id}/results`, bucket_binding: 'RESULTS', prefix: resultsPrefix(id), parts: row.parts },
  };
}
