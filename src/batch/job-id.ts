/**
 * @module Job ids and where a job's things live. A job is one run of the Durable Object that owns its prefix
 * (one object per prefix and `top`, so a rerun finds what earlier runs answered): its id is the object's id and
 * the run's number, `<64 hex>-<run>`.
 */

export interface JobRef {
  objectId: string;
  run: number;
}

const JOB_ID = /^([0-9a-f]{64})-([1-9][0-9]{0,9})$/;

export const formatJobId = (objectId: string, run: number) => `${objectId}-${run}`;

/** The object and run a job id names, or null for anything that is not a job id. */
export function parseJobId(id: string): JobRef | null {
  const match = JOB_ID.exec(id);
  return match ? { objectId: match[1]!, run: Number(match[2]) } : null;
}

/** The Durable Object name of the runs over one prefix with one `top`. */
export const collectionName = (prefix: string, top: number) => JSON.stringify({ prefix, top });

/** Where a job's result parts are, in the RESULTS bucket. */
export const resultsPrefix = (jobId: string) => `jobs/${jobId}/parts/`;
export const partKey = (jobId: string, chunk: string) => `${resultsPrefix(jobId)}${chunk}.jsonl`;

/** Chunk ids sort in listing order: page, then the chunk's place in the page. */
export const chunkId = (page: number, index: number) => `p${String(page).padStart(6, '0')}-c${String(index).padStart(4, '0')}`;
export const reusedChunkId = (page: number) => `p${String(page).padStart(6, '0')}-reused`;
