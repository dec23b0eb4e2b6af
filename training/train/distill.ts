/**
 * @module Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network"):
 * a pruned network fine-tuned towards the unpruned one's softened answers as well as the labels. `prune
 * --distill` uses it; the bench measures whether it helps (bench/prune-accuracy.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from './loss.js';

export interface Distillation {
  /** The network whose answers are learnt: run in inference mode, never trained. */
  teacher: tf.LayersModel;
  /** α: the share of the loss that is the teacher's (the labels' cross-entropy has 1 − α). */
  weight: number;
  /** T: both networks' probabilities are softened as softmax(log p / T) before they are compared. */
  temperature: number;
}

/** softmax(log p / T): the same ranking, flatter for T > 1 (p is a softmax output, clipped away from 0). */
export const soften = (p: tf.Tensor, temperature: number) => tf.softmax(tf.div(tf.log(tf.clipByValue(p, 1e-7, 1)), temperature));

/** KL(q ‖ p), averaged over the batch. */
const klDivergence = (q: tf.Tensor, p: tf.Tensor) => tf.mean(tf.sum(tf.mul(q, tf.sub(tf.log(tf.clipByValue(q, 1e-7, 1)), tf.log(tf.clipByValue(p, 1e-7, 1)))), 1)) as tf.Scalar;

/**
 * (1 − α) · CE(labels, p) + α · T² · KL(soft teacher ‖ soft student): the T² keeps the soft term's gradients at
 * the labels' scale whatever T (Hinton et al., section 2).
 */
export function distillationLoss(y: tf.Tensor, p: tf.Tensor, teacherP: tf.Tensor, d: Pick<Distillation, 'weight' | 'temperature'>): tf.Scalar {
  const hard = crossEntropy(y, p);
  const soft = tf.mul(d.temperature * d.temperature, klDivergence(soften(teacherP, d.temperature), soften(p, d.temperature)));
  return tf.add(tf.mul(1 - d.weight, hard), tf.mul(d.weight, soft)) as tf.Scalar;
}
