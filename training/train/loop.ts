/**
 * @module One training epoch and one validation pass, on any model and any source of batches (cached
 * features for stage 1, augmented images for stage 2). Gradient accumulation: `accumulate` micro-batches
 * of `batch` images add their gradients before one optimizer step (a larger effective batch in the same
 * memory).
 */
import * as tf from '@tensorflow/tfjs';
import { shuffle, type Random } from '../data/random.js';
import { distillationLoss, type Distillation } from './distill.js';
import { crossEntropy, l2Kernels, withL2 } from './loss.js';
import { epochProgress } from './progress.js';

export interface Batch {
  xs: tf.Tensor[];
  y: tf.Tensor2D;
}

export interface BatchSource {
  count: number;
  /** The batch of `indices`; `training` turns augmentation on where the source has any. */
  batch(indices: number[], training: boolean): Batch;
}

export interface EpochOptions {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  source: BatchSource;
  batchSize: number;
  accumulate: number;
  learningRate: number;
  /** L2 factor on the trainable Dense kernels (the recipe's regulariser), 0 for none. */
  l2: number;
  random: Random;
  title: string;
  /** Checked between steps: true ends the epoch early (Ctrl-C). */
  interrupted?: () => boolean;
  /** Learn a teacher's answers too (the loss is then distillation.ts's); none: the labels' cross-entropy. */
  distillation?: Distillation;
}

export interface EpochMetrics {
  loss: number;
  accuracy: number;
  steps: number;
  seconds: number;
  completed: boolean;
}

const correctCount = (y: tf.Tensor, p: tf.Tensor) => tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32'));

const apply = (model: tf.LayersModel, xs: tf.Tensor[], training: boolean) => model.apply(xs.length === 1 ? xs[0]! : xs, { training }) as tf.Tensor;

export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

/** Runs one shuffled pass over the source. */
export async function trainEpoch(o: EpochOptions): Promise<EpochMetrics> {
  const started = Date.now();
  const { model, optimizer, source, batchSize } = o;
  (optimizer as unknown as { learningRate: number }).learningRate = o.learningRate;
  const variables = trainableVariables(model);
  const kernels = l2Kernels(model, o.l2);
  const order = shuffle(Array.from({ length: source.count }, (_, i) => i), o.random);
  const steps = Math.ceil(order.length / batchSize);
  const progress = epochProgress(o.title, steps);
  let pending: Record<string, tf.Tensor> | null = null;
  let pendingCount = 0;
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let step = 0;
  const flush = () => {
    if (!pending) return;
    const scaled = tf.tidy(() => Object.fromEntries(Object.entries(pending!).map(([k, g]) => [k, tf.div(g, pendingCount)])));
    optimizer.applyGradients(scaled);
    tf.dispose([...Object.values(pending), ...Object.values(scaled)]);
    pending = null;
    pendingCount = 0;
  };
  for (; step < steps; step++) {
    // Let the event loop run between steps: a CPU backend's reads resolve as microtasks, so without this a
    // Ctrl-C (and the progress bar's redraw timer) would wait for the end of the epoch.
    await new Promise((resolve) => setImmediate(resolve));
    if (o.interrupted?.()) break;
    const indices = order.slice(step * batchSize, (step + 1) * batchSize);
    const { xs, y } = source.batch(indices, true);
    let hitsTensor: tf.Tensor | null = null;
    const distillation = o.distillation;
    const teacherP = distillation ? tf.tidy(() => apply(distillation.teacher, xs, false)) : null;
    const { value, grads } = tf.variableGrads(() => {
      const p = apply(model, xs, true);
      hitsTensor = tf.keep(correctCount(y, p));
      return withL2(distillation ? distillationLoss(y, p, teacherP!, distillation) : crossEntropy(y, p), kernels, o.l2);
    }, variables);
    if (teacherP) tf.dispose(teacherP);
    // Asynchronous reads: a GPU backend cannot read synchronously under Node (WebGPU's readSync needs a canvas).
    const [lossValue, hits] = (await Promise.all([value.data(), hitsTensor!.data()])).map((d) => d[0]!) as [number, number];
    tf.dispose(hitsTensor!);
    if (pending) {
      const sums: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(grads)) sums[k] = tf.add(pending[k]!, g);
      tf.dispose([...Object.values(pending), ...Object.values(grads)]);
      pending = sums;
    } else {
      pending = grads;
    }
    pendingCount++;
    if (pendingCount === o.accumulate) flush();
    tf.dispose([value, y, ...xs]);
    lossSum += lossValue * indices.length;
    correct += hits;
    seen += indices.length;
    progress.tick({ loss: lossSum / seen, accuracy: correct / seen });
  }
  if (step === steps) flush();
  else if (pending) tf.dispose(Object.values(pending as Record<string, tf.Tensor>));
  progress.done();
  return { loss: lossSum / Math.max(1, seen), accuracy: correct / Math.max(1, seen), steps: step, seconds: (Date.now() - started) / 1000, completed: step === steps };
}

export interface Evaluation {
  loss: number;
  accuracy: number;
}

/** Validation loss and accuracy in inference mode. */
export async function evaluateSource(model: tf.LayersModel, source: BatchSource, batchSize: number): Promise<Evaluation> {
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < source.count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, source.count - start) }, (_, i) => start + i);
    const { xs, y } = source.batch(indices, false);
    const [lossT, hitsT] = tf.tidy(() => {
      const p = apply(model, xs, false);
      return [crossEntropy(y, p), correctCount(y, p)];
    });
    const [loss, hits] = (await Promise.all([lossT.data(), hitsT.data()])).map((d) => d[0]!) as [number, number];
    tf.dispose([y, lossT, hitsT, ...xs]);
    lossSum += loss * indices.length;
    correct += hits;
  }
  return { loss: lossSum / Math.max(1, source.count), accuracy: correct / Math.max(1, source.count) };
}
