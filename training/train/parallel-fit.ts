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
import type { FitWorkerData, FitWorkerMessage } from './fit-worker.js';

export interface StepLog {
  step: number;
  loss: number;
  accuracy: number;
  learningRate: number;
  seconds: number;
}

export type ParallelFitOptions = Omit<FitWorkerData, 'rank' | 'images' | 'labels' | 'gradients' | 'weights' | 'barrier' | 'evaluation'> & {
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

/** Trains on `workers` threads; resolves with worker 0's model as ONNX bytes. */
export async function fitDataParallel(options: ParallelFitOptions): Promise<Uint8Array> {
  const { tensors, labelsOf, parameters, onStep, evaluation, workerEntry, ...common } = options;
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
      let onnx: Uint8Array | undefined;
      const checksums: number[] = [];
      for (let rank = 0; rank < common.workers; rank++) {
        const data: FitWorkerData = { ...common, rank, images, labels, gradients, weights, barrier, evaluation: heldOut };
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
          if (message.kind === 'done') {
            if (message.onnx) onnx = message.onnx;
            checksums.push(message.checksum);
            if (checksums.length < common.workers) return;
            // Every replica must end with the same weights; anything else is a bug in the exchange.
            if (checksums.some((c) => c !== checksums[0])) reject(new Error(`training workers ended with different weights (checksums ${checksums.join(', ')})`));
            else if (!onnx) reject(new Error('worker 0 sent no model'));
            else resolve(onnx);
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
