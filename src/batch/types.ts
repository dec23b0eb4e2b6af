/**
 * @module What a batch job is made of: the states a job goes through, the chunk message its queue carries, the
 * result line each image gets, and the status the API reports.
 */
import type { Ranked } from '../core/classify.js';

export type JobState = 'listing' | 'running' | 'done' | 'failed' | 'cancelled';
export const ACTIVE_STATES: readonly JobState[] = ['listing', 'running'];

/** One object of the bucket, as listed: the consumer classifies the object only while its etag still is this one. */
export interface ListedObject {
  key: string;
  etag: string;
  size: number;
}

/**
 * A queue message: a run's chunk of keys to classify. `run` names the job's Durable Object (the collection of
 * runs over one prefix) and the run in it; `chunk` is stable across re-deliveries and re-sends, so a chunk
 * always rewrites the same result part and is counted once.
 */
export interface ChunkMessage {
  job: string;
  chunk: string;
  top: number;
  objects: ListedObject[];
}

/** One line of a job's results (JSONL): the /predict answer for a good image, the error for a bad one. */
export type ResultLine = { key: string; etag: string } & (
  | { class: number; label: string; confidence: number; top: Ranked[]; model: { name: string; version: string; sha256: string } }
  | { error: { code: string; message: string }; status: number }
);

export const isErrorLine = (line: ResultLine): line is Extract<ResultLine, { error: unknown }> => 'error' in line;

/** Error codes of lines that are not the image's fault: a rerun classifies those keys again instead of reusing them. */
export const TRANSIENT_LINE_CODES: ReadonlySet<string> = new Set(['chunk_failed', 'object_missing']);

export interface JobCounts {
  /** Keys the listing found so far. */
  listed: number;
  /** Keys with an answer (including those reused from an earlier run). */
  done: number;
  /** Keys with an error line. */
  failed: number;
  /** Keys answered from an earlier run over the same prefix (same etag and model) without classifying again. */
  reused: number;
}

export interface JobStatus {
  id: string;
  state: JobState;
  prefix: string;
  top: number;
  model_sha256: string;
  counts: JobCounts;
  /** Images classified per second since the job started (reused keys excluded); null before the first chunk. */
  images_per_second: number | null;
  /** Seconds until every listed key has a line, at the current rate; null while the listing goes on or before a rate. */
  eta_seconds: number | null;
  created_at: string;
  finished_at: string | null;
  /** Why a failed job failed. */
  error: string | null;
  results: { url: string; bucket_binding: 'RESULTS'; prefix: string; parts: number };
  /** Rows the job's bookkeeping wrote in its Durable Object's SQLite storage (billed per row written). */
  storage_rows_written: number;
}
