/**
 * @module Batch-norm statistics measured on images, for networks that have weights but no trained statistics.
 * A freshly initialised ResNet has moving mean 0 and variance 1 in every BatchNormalization layer, so at
 * inference nothing is normalised: activations drift in scale block after block and, deep enough, every input
 * gives nearly the same features (ResNet152 with random weights answers 2 distinct classes for 64 images). A
 * trained network's statistics describe its data; measuring them on images, layer after layer, gives a random
 * network the same property, which is what an int8 agreement check on random weights needs to be meaningful.
 */
import * as tf from '@tensorflow/tfjs';

interface BatchNormMomentum {
  momentum: number;
}

/**
 * Sets each BatchNormalization layer's moving mean and variance to the batch statistics of its input on `images`
 * (NHWC), every layer seeing inputs already normalised by the layers before it: one training-mode pass with the
 * layers' momentum at 0 (moving ← batch value), the momentum restored afterwards. Relies on the training-mode call
 * updating the moving statistics, as resnet50.ts' fused batch norm does (a model built with `batchStatistics:
 * 'stem'` runs its other layers in inference mode, so only conv1_bn would change).
 */
export function setBatchNormStatistics(model: tf.LayersModel, images: tf.Tensor4D): void {
  const layers = model.layers.filter((l) => l.getClassName() === 'BatchNormalization') as unknown as BatchNormMomentum[];
  const momenta = layers.map((l) => l.momentum);
  try {
    for (const l of layers) l.momentum = 0;
    tf.tidy(() => {
      model.apply(images, { training: true });
    });
  } finally {
    layers.forEach((l, i) => {
      l.momentum = momenta[i]!;
    });
  }
}
