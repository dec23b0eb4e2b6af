/**
 * @module Data-parallel training on every core: tfjs' wasm backend runs one thread, and two training processes
 * side by side each keep their speed on this project's 2-core machine, so N workers see N× the images in the
 * same time. Each worker (fit-worker.ts) holds a ResNet50 replica; per step they average gradients through
 * shared memory, each updates its part of the weights with Adam, and all load the result (synchronous
 * data-parallel SGD, as in Goyal et al. 2017). BatchNorm
 * statistics are per worker (each replica normalises its own share of the batch), as in PyTorch's DDP
 * without SyncBatchNorm; the exported model is worker 0's.
 */
import { Worker } from 'node:worker_threads';
import { BARRIER_BYTES } from './barrier.js';
import { createHash } from 'node:crypto';
import { readCheckpointFor, writeCheckpoint, type FitCheckpoint, type WorkerCheckpoint } from './fit-checkpoint.js';
import type { FitWorkerData, FitWorkerMessage } from './fit-worker.js';

export interface StepLog {
  step: number;
  loss: number;
  accuracy: number;
  learningRate: number;
  seconds: number;
}

export interface CheckpointOptions {
  /** Where the run's checkpoint lives: read at the start (a run it matches continues from it), rewritten every `every` steps. */
  file: string;
  every: number;
  /** The caller's own state to keep with each checkpoint (e.g. its learning curve so far). */
  extra?: () => unknown;
  /** Called before training when the run continues from a checkpoint. */
  onResume?: (step: number, extra: unknown) => void;
}

export type ParallelFitOptions = Omit<FitWorkerData, 'rank' | 'images' | 'labels' | 'gradients' | 'weights' | 'barrier' | 'evaluation' | 'checkpointEvery' | 'resume'> & {
  tensors: Float32Array[];
  labelsOf: number[];
  /** Held-out tensors scored every `every` steps (reported through onEvaluate). */
  evaluation?: { tensors: Float32Array[]; labels: number[]; every: number; onEvaluate: (step: number, accuracy: number, perClass: number[]) => void };
  /**
   * The worker thread's entry: by default a boot script that registers tsx and runs fit-worker.ts; a
   * bundled program passes its own file (which calls runFitWorker when started as a worker).
   */
  workerEntry?: URL;
  /** Trainable parameter count of the model (sizes the shared gradient buffers). */
  parameters: number;
  onStep?: (log: StepLog) => void;
  /** Resumable training: same bytes as a run that never stopped (fit-checkpoint.ts). */
  checkpoint?: CheckpointOptions;
  /** Stops the run (after the checkpoint being written, if any, is on disk): rejects with the signal's reason. */
  signal?: AbortSignal;
};

/** tsx's loader is registered per thread: the worker registers it before importing the TypeScript module. */
const WORKER_BOOT = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(new URL('./fit-worker.ts', import.meta.url).href)}); }).then((m) => m.runFitWorker(require('node:worker_threads').workerData));`;

function shareImages(tensors: Float32Array[], labels: number[]) {
  const stride = tensors[0]?.length ?? 0;
  const images = new SharedArrayBuffer(tensors.length * stride * 4);
  const view = new Float32Array(images);
  tensors.forEach((t, i) => view.set(t, i * stride));
  const shared = new SharedArrayBuffer(labels.length * 4);
  new Int32Array(shared).set(labels);
  return { images, labels: shared };
}

function fingerprintOf(options: object, tensors: Float32Array[], labels: number[]): string {
  const digest = createHash('sha256').update(JSON.stringify(options));
  for (const t of tensors) digest.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  return digest.update(new Uint8Array(Int32Array.from(labels).buffer)).digest('hex');
}

/** Trains on `workers` threads; resolves with worker 0's model as ONNX bytes. */
export async function fitDataParallel(options: ParallelFitOptions): Promise<Uint8Array> {
  const { tensors, labelsOf, parameters, onStep, evaluation, workerEntry, checkpoint, signal, ...common } = options;
  signal?.throwIfAborted();
  // What a checkpoint must match: every option and the data (not the callbacks). Hashed only for a resumable run.
  const run: FitCheckpoint['run'] = { steps: common.steps, seed: common.seed, workers: common.workers, parameters, fingerprint: checkpoint ? fingerprintOf(common, tensors, labelsOf) : '' };
  const resumed = checkpoint ? await readCheckpointFor(checkpoint.file, run) : null;
  if (resumed) checkpoint!.onResume?.(resumed.step, resumed.extra);
  const parts = new Map<number, { weights?: Float32Array; workers: Array<WorkerCheckpoint | undefined>; arrived: number }>();
  let writing: Promise<void> = Promise.resolve();
  const { images, labels } = shareImages(tensors, labelsOf);
  const heldOut = evaluation ? { ...shareImages(evaluation.tensors, evaluation.labels), every: evaluation.every } : null;
  const gradients = new SharedArrayBuffer(common.workers * parameters * 4);
  const weights = new SharedArrayBuffer(parameters * 4);
  const barrier = new SharedArrayBuffer(BARRIER_BYTES);
  const pending = new Map<number, { loss: number; correct: number; count: number; learningRate: number; arrived: number }>();
  let lastStepAt = Date.now();
  const workers: Worker[] = [];
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      signal?.addEventListener('abort', () => writing.then(() => reject(signal.reason), reject), { once: true });
      let onnx: Uint8Array | undefined;
      const checksums: number[] = [];
      for (let rank = 0; rank < common.workers; rank++) {
        const resume = resumed ? { step: resumed.step, weights: resumed.weights, own: resumed.workers[rank]! } : null;
        const data: FitWorkerData = { ...common, rank, images, labels, gradients, weights, barrier, evaluation: heldOut, checkpointEvery: checkpoint?.every, resume };
        const worker = workerEntry ? new Worker(workerEntry, { workerData: data }) : new Worker(WORKER_BOOT, { eval: true, workerData: data });
        workers.push(worker);
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (code !== 0) reject(new Error(`training worker ${rank} exited with code ${code}`));
        });
        worker.on('message', (message: FitWorkerMessage) => {
          if (message.kind === 'eval') {
            evaluation?.onEvaluate(message.step, message.accuracy, message.perClass);
            return;
          }
          if (message.kind === 'checkpoint') {
            const entry = parts.get(message.step) ?? { workers: [], arrived: 0 };
            entry.workers[message.rank] = message.state;
            if (message.weights) entry.weights = message.weights;
            if (++entry.arrived < common.workers) return void parts.set(message.step, entry);
            parts.delete(message.step);
            const saved: FitCheckpoint = { step: message.step, run, weights: entry.weights!, workers: entry.workers as WorkerCheckpoint[], extra: checkpoint!.extra?.() ?? null };
            // One write at a time, in step order; a failed write fails the run (a resumable build that cannot save is not).
            writing = writing.then(() => writeCheckpoint(checkpoint!.file, saved));
            writing.catch(reject);
            return;
          }
          if (message.kind === 'done') {
            if (message.onnx) onnx = message.onnx;
            checksums.push(message.checksum);
            if (checksums.length < common.workers) return;
            // Every replica must end with the same weights; anything else is a bug in the exchange.
            if (checksums.some((c) => c !== checksums[0])) reject(new Error(`training workers ended with different weights (checksums ${checksums.join(', ')})`));
            else if (!onnx) reject(new Error('worker 0 sent no model'));
            else writing.then(() => resolve(onnx!), reject);
            return;
          }
          const entry = pending.get(message.step) ?? { loss: 0, correct: 0, count: 0, learningRate: message.learningRate, arrived: 0 };
          entry.loss += message.loss / common.workers;
          entry.correct += message.correct;
          entry.count += message.count;
          if (++entry.arrived < common.workers) {
            pending.set(message.step, entry);
            return;
          }
          pending.delete(message.step);
          const now = Date.now();
          onStep?.({ step: message.step, loss: entry.loss, accuracy: entry.correct / entry.count, learningRate: entry.learningRate, seconds: (now - lastStepAt) / 1000 });
          lastStepAt = now;
        });
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
