/**
 * @module `pipeline batch`: classify a folder (or what a prefix of the IMAGES bucket already holds) as a batch
 * job on the running Worker: upload, start, follow with a progress bar and ETA, write the results (JSONL).
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { JobStatus } from '../../src/batch/types.js';
import { downloadResults, followJob, startJob, type JobClient } from '../batch/client.js';
import { folderObjects, keysUrlsWouldChange, uploadObjects } from '../batch/upload.js';

export interface BatchOptions {
  images?: string;
  prefix?: string;
  url: string;
  remote: boolean;
  persistTo?: string;
  top: number;
  out: string;
  apiKey?: string;
  pollMs?: number;
  log: (line: string) => void;
  stream?: NodeJS.WriteStream;
}

/** A usage mistake (exit 2): what is wrong and which option or file. */
export class BatchInputError extends Error {}

export interface BatchSummary {
  job: string;
  state: JobStatus['state'];
  counts: JobStatus['counts'];
  images_per_second: number | null;
  out: string;
}

export async function batchCommand(o: BatchOptions): Promise<BatchSummary> {
  if (!o.images && o.prefix === undefined) throw new BatchInputError('give --images DIR (a folder to upload and classify) or --prefix P (keys already in the IMAGES bucket)');
  if (o.remote && !o.images) throw new BatchInputError('--remote uploads --images to the real bucket; without --images, give only --url');
  if (o.remote && /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(o.url)) throw new BatchInputError(`--remote uploads to the real bucket, but --url ${o.url} is a local Worker: give --url of the deployed one`);
  let prefix = o.prefix ?? '';
  if (o.images) {
    const info = await stat(o.images).catch(() => null);
    if (!info?.isDirectory()) throw new BatchInputError(`--images ${o.images}: not a folder`);
    prefix = o.prefix ?? `${basename(resolve(o.images))}/`;
    const objects = await folderObjects(o.images, prefix);
    if (objects.length === 0) throw new BatchInputError(`--images ${o.images}: the folder holds no files`);
    const unsafe = o.remote ? keysUrlsWouldChange(objects) : [];
    if (unsafe.length > 0) {
      throw new BatchInputError(`${unsafe.length} file name(s) would change on the way to R2 with --remote (wrangler sends keys in a URL unescaped), e.g. ${unsafe.slice(0, 3).map((u) => u.file).join(', ')}: rename them`);
    }
    await uploadObjects(objects, { remote: o.remote, ...(o.persistTo ? { persistTo: o.persistTo } : {}), log: o.log });
  }
  const client: JobClient = { base: o.url.replace(/\/$/, ''), ...(o.apiKey ? { apiKey: o.apiKey } : {}) };
  const job = await startJob(client, prefix, o.top);
  o.log(`${job.created ? 'started' : 'following the job already running on'} ${JSON.stringify(prefix)}: ${job.status_url}`);
  const progress = jobProgress(o.stream ?? process.stderr, o.log);
  const final = await followJob(client, job.id, progress.update, { pollMs: o.pollMs ?? 1000, log: o.log }).finally(progress.stop);
  await downloadResults(client, job.id, o.out);
  const { counts } = final;
  o.log(`${final.state}: ${counts.done} answered, ${counts.failed} with an error line (${counts.reused} reused from an earlier run) → ${o.out}`);
  return { job: job.id, state: final.state, counts, images_per_second: final.images_per_second, out: o.out };
}

/** A bar on a terminal (value: keys with a line; total: keys listed so far); a line every 5 s otherwise. */
function jobProgress(stream: NodeJS.WriteStream, log: (line: string) => void) {
  const describe = (s: JobStatus) =>
    `${s.state} ${s.counts.done + s.counts.failed}/${s.counts.listed} (${s.counts.failed} errors)` +
    (s.images_per_second === null ? '' : ` ${s.images_per_second} images/s`) +
    (s.eta_seconds === null ? '' : ` ETA ${s.eta_seconds} s`);
  if (!stream.isTTY) {
    let last = 0;
    return {
      update: (s: JobStatus) => {
        if (Date.now() - last < 5000 && s.state !== 'done') return;
        last = Date.now();
        log(describe(s));
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar({ stream, format: 'batch {bar} {value}/{total} | {state} | {errors} errors | {rate} | ETA {eta}', hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(1, 0, { state: 'listing', errors: 0, rate: '-', eta: '-' });
  return {
    update: (s: JobStatus) => {
      bar.setTotal(Math.max(1, s.counts.listed));
      bar.update(s.counts.done + s.counts.failed, {
        state: s.state,
        errors: s.counts.failed,
        rate: s.images_per_second === null ? '-' : `${s.images_per_second} images/s`,
        eta: s.eta_seconds === null ? '-' : `${s.eta_seconds} s`,
      });
    },
    stop: () => bar.stop(),
  };
}
