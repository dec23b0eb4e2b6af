/** @module The training loss, shared by both loops: categorical cross-entropy plus the recipe's L2 on the head. */
import * as tf from '@tensorflow/tfjs';

/** Cross-entropy of softmax outputs (clipped like Keras). */
export const crossEntropy = (y: tf.Tensor, p: tf.Tensor) => tf.mean(tf.metrics.categoricalCrossentropy(y, p)) as tf.Scalar;

/** The trainable Dense kernels the recipe's L2 applies to (none when `l2` is 0). */
export const l2Kernels = (model: tf.LayersModel, l2: number): tf.Tensor[] =>
  l2 > 0 ? model.layers.filter((l) => l.getClassName() === 'Dense' && l.trainable).map((l) => l.trainableWeights[0]!.read()) : [];

/** `loss` + l2 · Σ‖k‖² over `kernels`. */
export function withL2(loss: tf.Scalar, kernels: tf.Tensor[], l2: number): tf.Scalar {
  let total = loss;
  for (const k of kernels) total = tf.add(total, tf.mul(l2, tf.sum(tf.square(k)))) as tf.Scalar;
  return total;
}
