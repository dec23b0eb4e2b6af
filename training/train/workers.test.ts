/** The data-parallel worker count per machine: the recipe's 32 images per step shared by as many workers as allowed. */
import { describe, expect, it } from 'vitest';
import { machineWorkerSplit, workerSplit } from './workers.js';

const GB = 2 ** 30;

describe('workerSplit', () => {
  it('uses the largest power of two the cores and memory allow, up to 8, keeping 32 images per step', () => {
    expect(workerSplit(32, 1, 64 * GB)).toEqual({ workers: 1, batchPerWorker: 32 });
    expect(workerSplit(32, 2, 24 * GB)).toEqual({ workers: 2, batchPerWorker: 16 }); // this project's machine: today's recipe
    expect(workerSplit(32, 3, 24 * GB)).toEqual({ workers: 2, batchPerWorker: 16 });
    expect(workerSplit(32, 4, 24 * GB)).toEqual({ workers: 4, batchPerWorker: 8 });
    expect(workerSplit(32, 16, 128 * GB)).toEqual({ workers: 8, batchPerWorker: 4 });
    expect(workerSplit(32, 16, 4 * GB)).toEqual({ workers: 2, batchPerWorker: 16 }); // memory-bound
    expect(workerSplit(24, 16, 128 * GB)).toEqual({ workers: 8, batchPerWorker: 3 });
    expect(workerSplit(12, 16, 128 * GB)).toEqual({ workers: 4, batchPerWorker: 3 }); // 8 does not divide 12
  });

  it('takes a pinned count that divides the batch, and refuses one that does not', () => {
    expect(machineWorkerSplit(32, { EDGE_RESNET_TRAIN_WORKERS: '1' })).toEqual({ workers: 1, batchPerWorker: 32 });
    expect(machineWorkerSplit(32, { EDGE_RESNET_TRAIN_WORKERS: '4' })).toEqual({ workers: 4, batchPerWorker: 8 });
    expect(() => machineWorkerSplit(32, { EDGE_RESNET_TRAIN_WORKERS: '3' })).toThrow(/divide/);
    expect(() => machineWorkerSplit(32, { EDGE_RESNET_TRAIN_WORKERS: 'two' })).toThrow(/divide/);
  });
});
