/**
 * @module How many data-parallel training threads a machine gets (train/parallel-fit.ts). The recipe fixes the
 * effective batch (images per optimizer step); the machine decides how many workers share it: the largest power
 * of two that divides it and that the cores and memory allow, capped at 8 (beyond that each worker's share of a
 * 32-image step is too small to keep its kernels busy, and the per-step weight update, done by every worker,
 * dominates). The same worker count gives the same result; `EDGE_RESNET_TRAIN_WORKERS` pins it (to reproduce a
 * build made on another machine).
 */
import { availableParallelism, totalmem } from 'node:os';

export const MAX_TRAIN_WORKERS = 8;
/**
 * Memory allowed per worker: each holds ResNet50's weights, gradients and two Adam moments (4 × 25.6 M float32 ≈
 * 0.4 GB) plus its activations and the wasm heap's slack; 1.5 GB is an allowance with room, not a measurement.
 */
const BYTES_PER_WORKER = 1.5 * 2 ** 30;

export interface WorkerSplit {
  workers: number;
  batchPerWorker: number;
}

/** Workers for `effectiveBatch` images per step on a machine with `cores` and `memoryBytes`. */
export function workerSplit(effectiveBatch: number, cores: number, memoryBytes: number, pinned?: number): WorkerSplit {
  if (pinned !== undefined) {
    if (!Number.isInteger(pinned) || pinned < 1 || effectiveBatch % pinned !== 0) throw new RangeError(`EDGE_RESNET_TRAIN_WORKERS=${pinned} must divide the recipe's ${effectiveBatch} images per step`);
    return { workers: pinned, batchPerWorker: effectiveBatch / pinned };
  }
  const allowed = Math.max(1, Math.min(MAX_TRAIN_WORKERS, cores, Math.floor(memoryBytes / BYTES_PER_WORKER)));
  let workers = 1;
  while (workers * 2 <= allowed && effectiveBatch % (workers * 2) === 0) workers *= 2;
  return { workers, batchPerWorker: effectiveBatch / workers };
}

/** This machine's split (or the pinned one). */
export function machineWorkerSplit(effectiveBatch: number, env: NodeJS.ProcessEnv = process.env): WorkerSplit {
  const pinned = env.EDGE_RESNET_TRAIN_WORKERS === undefined || env.EDGE_RESNET_TRAIN_WORKERS === '' ? undefined : Number(env.EDGE_RESNET_TRAIN_WORKERS);
  return workerSplit(effectiveBatch, availableParallelism(), totalmem(), pinned);
}
