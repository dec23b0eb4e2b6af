/** @module A queue message's body as the consumer reads it, and how long it waits before each retry. */
import { parseJobId } from './job-id.js';
import type { ChunkMessage } from './types.js';

/** Seconds before the n-th retry (attempts counts from 1): 10, 20, 40 … at most 5 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(300, 10 * 2 ** Math.max(0, attempts - 1));

/** The message's chunk, or null for a body this consumer cannot use (acknowledged and logged, never retried). */
export function parseChunkMessage(body: unknown): ChunkMessage | null {
  const m = body as Partial<ChunkMessage> | null;
  if (!m || typeof m.job !== 'string' || !parseJobId(m.job) || typeof m.chunk !== 'string' || typeof m.top !== 'number' || !Array.isArray(m.objects)) return null;
  const objectsOk = m.objects.every((o) => o && typeof o.key === 'string' && typeof o.etag === 'string' && typeof o.size === 'number');
  return objectsOk ? (m as ChunkMessage) : null;
}
