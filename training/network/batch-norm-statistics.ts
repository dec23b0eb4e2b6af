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
 * (NHWC), every layer seeing inputs already normalised by the layers before it (one batch of
 * reestimateBatchNormStatistics).
 */
export function setBatchNormStatistics(model: tf.LayersModel, images: tf.Tensor4D): void {
  reestimateBatchNormStatistics(model, [images]);
}

/**
 * Re-measures every live BatchNormalization layer's moving mean and variance on `batches` (the model's inputs):
 * training-mode passes, each layer normalising by its batch statistics as in training, with the layers' momentum
 * set so that the moving values become the average over the batches (k/(k+1) before batch k, so the first
 * batch replaces what was there), the momentum restored afterwards. This is what PyTorch's `update_bn` does,
 * and what pruning needs (EagleEye's adaptive BN, ECCV 2020): a cut or a short fine-tune changes what each layer
 * sees, while the moving averages (momentum 0.99: 0.99^50 = 60 % of the old value after 50 steps) still
 * describe the network before it; inference then normalises with the wrong statistics (measured: a pruned
 * imported ResNet50 fine-tuned 50 steps trained to 0.70 and answered at chance). Relies on the training-mode call
 * updating the moving statistics, as resnet.ts' fused batch norm does; layers pinned to inference mode (frozen,
 * or `batchStatistics: 'stem'`) keep theirs.
 */
export function reestimateBatchNormStatistics(model: tf.LayersModel, batches: Iterable<tf.Tensor | tf.Tensor[]>): void {
  const layers = model.layers.filter((l) => l.getClassName() === 'BatchNormalization') as unknown as BatchNormMomentum[];
  const momenta = layers.map((l) => l.momentum);
  let k = 0;
  try {
    for (const inputs of batches) {
      for (const l of layers) l.momentum = k / (k + 1);
      tf.tidy(() => {
        model.apply(inputs, { training: true });
      });
      k++;
    }
  } finally {
    layers.forEach((l, i) => {
      l.momentum = momenta[i]!;
    });
  }
}

/**
 * A BatchNormalization that computes nothing, as a source that folded its BN into the convolution leaves it
 * (sources/recognize.ts): γ 1, β 0, moving mean 0, moving variance 1 − ε.
 */
export function isFoldedBatchNorm(weights: ArrayLike<number>[], epsilon: number): boolean {
  const [gamma, beta, mean, variance] = weights as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
  const all = (a: ArrayLike<number>, ok: (v: number) => boolean) => Array.prototype.every.call(a, ok);
  return all(gamma, (g) => g === 1) && all(beta, (b) => b === 0) && all(mean, (m) => m === 0) && all(variance, (v) => Math.abs(v + epsilon - 1) < 1e-6);
}

/**
 * Gives folded BatchNormalization layers (`names`) back what training needs, without changing what the network
 * computes at inference: the per-channel mean m and variance v of each one's input, measured on `images` (NHWC,
 * in batches of `batch`), become its moving statistics, and γ = √(v + ε), β = m, so that
 * γ·(x − m)/√(v + ε) + β = x. Left as identities, a training step would normalise each channel by its batch
 * statistics and lose the scale and shift that folding moved into the convolution: the network would compute
 * something else from the first step on (measured: a pruned default model fell to chance after one epoch).
 */
export function unfoldBatchNorm(model: tf.LayersModel, names: string[], images: Float32Array[], size: [number, number], batch = 4): void {
  if (names.length === 0 || images.length === 0) return;
  const layers = names.map((n) => model.getLayer(n));
  const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.input as tf.SymbolicTensor) });
  const sums = layers.map(() => null as Float64Array | null);
  const squares = layers.map(() => null as Float64Array | null);
  const counts = layers.map(() => 0);
  for (let b = 0; b < images.length; b += batch) {
    const chunk = images.slice(b, b + batch);
    const stats = tf.tidy(() => {
      const x = tf.concat(chunk.map((t) => tf.tensor4d(t, [1, 3, size[0], size[1]]).transpose([0, 2, 3, 1])));
      const outs = [probe.predict(x)].flat() as tf.Tensor[];
      return outs.map((o) => [tf.sum(o, [0, 1, 2]).dataSync(), tf.sum(tf.square(o), [0, 1, 2]).dataSync(), o.shape[0]! * o.shape[1]! * o.shape[2]!] as const);
    });
    stats.forEach(([s, q, n], i) => {
      sums[i] ??= new Float64Array(s.length);
      squares[i] ??= new Float64Array(s.length);
      s.forEach((v, c) => (sums[i]![c]! += v));
      q.forEach((v, c) => (squares[i]![c]! += v));
      counts[i]! += n;
    });
  }
  layers.forEach((layer, i) => {
    const positions = counts[i]!;
    const epsilon = (layer as unknown as { epsilon: number }).epsilon;
    const mean = Float32Array.from(sums[i]!, (s) => s / positions);
    const variance = Float32Array.from(squares[i]!, (q, c) => Math.max(0, q / positions - mean[c]! ** 2));
    const gamma = Float32Array.from(variance, (v) => Math.sqrt(v + epsilon));
    const tensors = [gamma, mean, mean, variance].map((a) => tf.tensor1d(a));
    layer.setWeights(tensors);
    tf.dispose(tensors);
  });
}
