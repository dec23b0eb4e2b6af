/** @module Sending chunk messages within Queues' limits: ≤ 100 messages and ≤ 256 KB a `sendBatch`, ≤ 128 KB a message. */
import type { ChunkMessage } from './types.js';

const MAX_MESSAGES = 100;
/** Under 256 KB with room for Queues' per-message metadata (~100 B each). */
const MAX_BATCH_BYTES = 200 * 1024;

/** Groups messages into sendBatch calls that fit the limits, in order. */
export function sendGroups(messages: readonly ChunkMessage[]): ChunkMessage[][] {
  const groups: ChunkMessage[][] = [];
  let group: ChunkMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = new TextEncoder().encode(JSON.stringify(message)).byteLength;
    if (group.length > 0 && (group.length >= MAX_MESSAGES || bytes + size > MAX_BATCH_BYTES)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(message);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export async function sendChunks(queue: Queue<ChunkMessage>, messages: readonly ChunkMessage[]): Promise<void> {
  for (const group of sendGroups(messages)) await queue.sendBatch(group.map((body) => ({ body, contentType: 'json' as const })));
}
