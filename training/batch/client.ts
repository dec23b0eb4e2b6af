/** @module The batch-job API from the command line: start a job, follow it, fetch its results. */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { JobStatus } from '../../src/batch/types.js';

export const FINAL_STATES = ['done', 'failed', 'cancelled'] as const;

/** An answer of the API that is not a success: its status, code and message. */
export class JobApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export interface JobClient {
  base: string;
  apiKey?: string;
}

const headers = (c: JobClient): Record<string, string> => ({ 'content-type': 'application/json', ...(c.apiKey ? { authorization: `Bearer ${c.apiKey}` } : {}) });

async function call<T>(c: JobClient, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${c.base}${path}`, { method, headers: headers(c), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  if (!response.ok) {
    let error = { code: 'http_error', message: text.slice(0, 300) };
    try {
      error = (JSON.parse(text) as { error: typeof error }).error ?? error;
    } catch {
      // not our error form: keep the text
    }
    throw new JobApiError(response.status, error.code, error.message);
  }
  return JSON.parse(text) as T;
}

export const startJob = (c: JobClient, prefix: string, top: number) => call<{ id: string; status_url: string; created: boolean }>(c, 'POST', '/v1/jobs', { prefix, top });
export const jobStatus = (c: JobClient, id: string) => call<JobStatus>(c, 'GET', `/v1/jobs/${id}`);
export const cancelJob = (c: JobClient, id: string) => call<JobStatus>(c, 'DELETE', `/v1/jobs/${id}`);

export interface FollowOptions {
  pollMs?: number;
  /** How long the Worker may be unreachable (a restarted `npm start`, a network blip) before following gives up. */
  unreachableSeconds?: number;
  log?: (line: string) => void;
}

/**
 * Polls until the job is done, failed or cancelled; `onStatus` sees every reading (the progress display). The job
 * goes on without us, so a Worker that stops answering for a while is waited for, not given up on.
 */
export async function followJob(c: JobClient, id: string, onStatus: (s: JobStatus) => void, o: FollowOptions = {}): Promise<JobStatus> {
  const pollMs = o.pollMs ?? 1000;
  let lostSince: number | null = null;
  for (;;) {
    let status: JobStatus;
    try {
      status = await jobStatus(c, id);
      lostSince = null;
    } catch (err) {
      if (err instanceof JobApiError) throw err; // an answer, not an outage
      const now = Date.now();
      if (lostSince === null) o.log?.(`${c.base} does not answer (${err instanceof Error ? err.message : String(err)}); the job goes on there, retrying for up to ${o.unreachableSeconds ?? 120} s`);
      lostSince ??= now;
      if (now - lostSince > (o.unreachableSeconds ?? 120) * 1000) throw err;
      await new Promise((r) => setTimeout(r, pollMs));
      continue;
    }
    onStatus(status);
    if ((FINAL_STATES as readonly string[]).includes(status.state)) return status;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Streams the results (JSONL) into `out`, whole or not at all (a temp file renamed at the end). */
export async function downloadResults(c: JobClient, id: string, out: string): Promise<void> {
  const response = await fetch(`${c.base}/v1/jobs/${id}/results`, { headers: headers(c) });
  if (!response.ok || !response.body) throw new JobApiError(response.status, 'http_error', await response.text());
  const partial = `${out}.partial`;
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(partial));
    await rename(partial, out);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}
