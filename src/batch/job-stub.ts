/** @module A job id → the Durable Object that runs it, for the routes and the queue consumer alike. */
import type { BatchJobs } from './job-object.js';
import { parseJobId, type JobRef } from './job-id.js';

export interface JobStub {
  stub: DurableObjectStub<BatchJobs>;
  ref: JobRef;
}

/** The job's object and run, or null for an id that is not a job id of this namespace. */
export function jobStub(env: Env, jobId: string): JobStub | null {
  const ref = parseJobId(jobId);
  if (!ref) return null;
  try {
    return { stub: env.BATCH_JOBS.get(env.BATCH_JOBS.idFromString(ref.objectId)), ref };
  } catch {
    return null; // well-formed hex that this namespace did not make
  }
}
