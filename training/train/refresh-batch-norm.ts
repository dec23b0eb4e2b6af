/**
 * @module The moving BatchNorm statistics re-measured on training images during a run (`prune`'s fine-tuning):
 * after the cut, and after every epoch before it is validated and checkpointed, so that what is scored, kept as
 * best and exported normalises with statistics of the network as it now is (network/batch-norm-statistics.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom, shuffle } from '../data/random.js';
import { reestimateBatchNormStatistics } from '../network/batch-norm-statistics.js';
import type { BatchSource } from './loop.js';

export interface BatchNormRefresh {
  /** Training images read (un-augmented), a seeded draw over the whole set. */
  images: number;
  /** Also before the first step: the weights came from another network (a pruned one's cut layers). */
  atStart: boolean;
}

/** Re-measures `model`'s live BN statistics on up to `images` of `source`'s inputs in batches of `batchSize`; returns the count read. */
export function refreshBatchNorm(model: tf.LayersModel, source: BatchSource, images: number, batchSize: number, seed: number): number {
  // Shuffled, so that each batch mixes classes as training batches do (per-class batches would shrink the variances).
  const picked = shuffle(Array.from({ length: source.count }, (_, i) => i), seededRandom(seed)).slice(0, images);
  function* batches() {
    for (let b = 0; b < picked.length; b += batchSize) {
      const { xs, y } = source.batch(picked.slice(b, b + batchSize), false);
      try {
        yield xs;
      } finally {
        tf.dispose([...xs, y]);
      }
    }
  }
  reestimateBatchNormStatistics(model, batches());
  return picked.length;
}
