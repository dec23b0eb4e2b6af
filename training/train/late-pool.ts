/**
 * @module Images shown only late in training, in place of their class's regular images: variants of a class
 * that slow learning if drawn from the start. Stubby crosses (arm half-thickness 0.36–0.46) are the case:
 * other renderers draw them and 1.7.0 calls them stars, but drawn among the regular shapes from step 0 the
 * model was still at chance on crosses at step 1,100. Like the late colour augmentations, they are taught
 * once the class is learned.
 */
import type { Random } from '../data/random.js';

export interface LatePool {
  /** Index of the first pool image among the training images (the pool is at the end, outside the regular order). */
  first: number;
  /** The class the pool's images belong to (and stand in for). */
  label: number;
  fromStep: number;
  probability: number;
}

/**
 * From `fromStep` on, each index of class `label` in a batch becomes a random pool index with `probability`;
 * earlier batches, and other classes, pass unchanged. `total` is the number of training images, pool included.
 */
export function lateSwapper(pool: LatePool, labels: ArrayLike<number>, total: number, random: Random): (step: number, indices: number[]) => number[] {
  return (step, indices) =>
    step < pool.fromStep ? indices : indices.map((i) => (labels[i] === pool.label && random.next() < pool.probability ? pool.first + random.int(0, total - pool.first) : i));
}
