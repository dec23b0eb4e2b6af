/** @module One listed page → the chunks to classify and the lines an earlier run already answered. */
import { chunkId } from './job-id.js';
import type { ChunkMessage, ListedObject } from './types.js';

export interface PagePlan {
  messages: ChunkMessage[];
  /** Result lines reused as they are (JSON text), in listing order. */
  reused: string[];
}

/**
 * Keys whose etag already has an answer (`known`: from the ledger) are reused; the rest go out in chunks of
 * `chunkKeys`, in listing order. Chunk ids depend only on the page and the position, so listing the same page
 * again (a retried listing step) makes the same chunks.
 */
export function planPage(jobId: string, page: number, top: number, objects: readonly ListedObject[], chunkKeys: number, known: (object: ListedObject) => string | null): PagePlan {
  const reused: string[] = [];
  const fresh: ListedObject[] = [];
  for (const object of objects) {
    const line = known(object);
    if (line === null) fresh.push(object);
    else reused.push(line);
  }
  const messages: ChunkMessage[] = [];
  for (let i = 0; i < fresh.length; i += chunkKeys) {
    messages.push({ job: jobId, chunk: chunkId(page, i / chunkKeys), top, objects: fresh.slice(i, i + chunkKeys) });
  }
  return { messages, reused };
}
