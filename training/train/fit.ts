/**
 * @module A custom training loop (tfjs-layers `fit` cannot run our schedules or report per step):
 * shuffled mini-batches, augmentation, per-step learning rate, categorical cross-entropy.
 */
import * as tf from '@tensorflow/tfjs';
import { shuffle, type Random } from '../data/random.js';
import type { AugmentOptions } from './augment.js';
import { makeBatch, type TensorSet } from './batches.js';
import { crossEntropy, l2Kernels, withL2 } from './loss.js';

export interface StepLog {
  step: number;
  loss: number;
  accuracy: number;
  learningRate: number;
  seconds: number;
}

export interface FitOptions {
  model: tf.LayersModel;
  optimizer: tf.AdamOptimizer;
  data: TensorSet;
  batchSize: number;
  /** Global step to start from (resume) and the step to stop before. */
  fromStep?: number;
  steps: number;
  learningRate: (step: number) => number;
  augment: AugmentOptions | null;
  random: Random;
  /** L2 factor on the trainable Dense kernels (the recipe's regulariser), 0 for none. */
  l2?: number;
  onStep?: (log: StepLog) => void;
}


/** Trains for `steps − fromStep` steps, walking the data in reshuffled epochs. */
export function fitSteps(options: FitOptions): void {
  const { model, optimizer, data, batchSize, random } = options;
  const kernels = l2Kernels(model, options.l2 ?? 0);
  let order: number[] = [];
  let cursor = 0;
  for (let step = options.fromStep ?? 0; step < options.steps; step++) {
    const started = Date.now();
    if (cursor + batchSize > order.length) {
      order = shuffle(Array.from({ length: data.tensors.length }, (_, i) => i), random);
      cursor = 0;
    }
    const indices = order.slice(cursor, cursor + batchSize);
    cursor += batchSize;
    const { x, y } = makeBatch(data, indices, options.augment, random);
    const learningRate = options.learningRate(step);
    (optimizer as unknown as { learningRate: number }).learningRate = learningRate; // tfjs reads it on every update
    let correct = 0;
    const loss = optimizer.minimize(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32')).dataSync()[0]!);
      return withL2(crossEntropy(y, p), kernels, options.l2 ?? 0);
    }, true)!;
    const value = loss.dataSync()[0]!;
    tf.dispose([x, y, loss]);
    options.onStep?.({ step, loss: value, accuracy: correct / indices.length, learningRate, seconds: (Date.now() - started) / 1000 });
  }
}
