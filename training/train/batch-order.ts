/** @module Which images each global batch of data-parallel training takes: epochs of a seeded shuffle. */
import { seededRandom, shuffle } from '../data/random.js';

export interface BatchOrderOptions {
  /** Images in the set. */
  count: number;
  /** Images per global batch (every worker's share together). */
  batch: number;
  seed: number;
}

/**
 * Returns `next()`, the indices of each successive global batch: shuffled epochs without repeats inside one; a
 * new epoch starts when the current one has too few images left for a batch. The same seed gives the same
 * order on every worker, which each slices into its share.
 */
export function batchOrder({ count, batch, seed }: BatchOrderOptions): () => number[] {
  const random = seededRandom(seed);
  let order: number[] = [];
  let cursor = 0;
  return () => {
    if (cursor + batch > order.length) {
      order = shuffle(Array.from({ length: count }, (_, i) => i), random);
      cursor = 0;
    }
    cursor += batch;
    return order.slice(cursor - batch, cursor);
  };
}
