/**
 * @module BatchNormalization in training mode as one op with a hand-written gradient. tfjs-layers builds it from
 * moments + batchNorm, whose gradient tiles the statistics to the activation's shape (wasm's Tile is a
 * scalar loop: ~6 % of a ResNet50 step at 32 px) and reduces over N, H, W with transposes. Here the
 * activation is viewed as a [m, C] matrix; sums over m are MatMuls with a row of ones, and the gradient is
 * the textbook one: dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)), dγ = Σ dy · x̂, dβ = Σ dy.
 * Same batch statistics (biased variance), epsilon and moving-average updates as the layer it replaces;
 * inference (and frozen layers) still run the layer's own code.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormBackward, batchNormForward, hasBatchNormKernels } from './batch-norm-kernels.js';

interface BatchNormLayer {
  gamma: { read(): tf.Tensor };
  beta: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(t: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(t: tf.Tensor): void };
  epsilon: number;
  momentum: number;
  axis: number | number[];
}

/** y = γ·x̂ + β with batch statistics over every axis but the last; `onMoments` sees the batch mean and variance. */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, onMoments: (mean: tf.Tensor, variance: tf.Tensor) => void): tf.Tensor {
  const channels = x.shape[x.shape.length - 1]!;
  const m = x.size / channels;
  if (hasBatchNormKernels()) return batchNormByKernels(x, gamma, beta, epsilon, onMoments, [m, channels]);
  const op = tf.customGrad((input, g, b, save) => {
    const xin = input as tf.Tensor;
    const x2 = tf.reshape(xin, [m, channels]);
    const average = tf.fill([1, m], 1 / m);
    const mean = tf.reshape(tf.matMul(average, x2), [channels]);
    const centred = tf.sub(x2, mean);
    const variance = tf.reshape(tf.matMul(average, tf.square(centred)), [channels]);
    onMoments(mean, variance);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const normed = tf.mul(centred, invStd);
    const y = tf.reshape(tf.add(tf.mul(normed, g as tf.Tensor), b as tf.Tensor), xin.shape);
    (save as tf.GradSaveFunc)([normed, invStd, g as tf.Tensor]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xhat, inv, gam] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dy2 = tf.reshape(dy, [m, channels]);
        const ones = tf.fill([1, m], 1);
        const dBeta = tf.reshape(tf.matMul(ones, dy2), [channels]);
        const dGamma = tf.reshape(tf.matMul(ones, tf.mul(dy2, xhat)), [channels]);
        const dx = tf.mul(tf.sub(tf.sub(dy2, tf.div(dBeta, m)), tf.mul(xhat, tf.div(dGamma, m))), tf.mul(gam, inv));
        return [tf.reshape(dx, dy.shape), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}

/** The same op through a backend's own forward and backward kernels (batch-norm-kernels.ts: WebGPU). */
function batchNormByKernels(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, onMoments: (mean: tf.Tensor, variance: tf.Tensor) => void, shape: [number, number]): tf.Tensor {
  const op = tf.customGrad((input, g, b, save) => {
    const xin = input as tf.Tensor;
    const x2 = tf.reshape(xin, shape) as tf.Tensor2D;
    const [y, mean, variance] = batchNormForward(x2, g as tf.Tensor, b as tf.Tensor, epsilon);
    onMoments(mean, variance);
    (save as tf.GradSaveFunc)([x2, mean, variance, g as tf.Tensor]);
    return {
      value: tf.reshape(y, xin.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, sigma2, gam] = saved as [tf.Tensor2D, tf.Tensor, tf.Tensor, tf.Tensor];
        const [dx, dGamma, dBeta] = batchNormBackward(tf.reshape(dy, shape), xs, mu, sigma2, gam, epsilon);
        return [tf.reshape(dx, dy.shape), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}

/** Routes every channels-last BatchNormalization layer of `model` through batchNormTraining while training. */
export function useFusedBatchNorm(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const bn = layer as unknown as BatchNormLayer;
    const axis = Array.isArray(bn.axis) ? bn.axis : [bn.axis];
    if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 3)) continue;
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => {
      if (!kwargs?.training) return call(inputs, kwargs);
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const decay = 1 - bn.momentum;
      const update = (variable: BatchNormLayer['movingMean'], value: tf.Tensor) =>
        tf.tidy(() => {
          const current = variable.read();
          variable.write(tf.sub(current, tf.mul(tf.sub(current, value), decay)));
        });
      return batchNormTraining(x, bn.gamma.read(), bn.beta.read(), bn.epsilon, (mean, variance) => {
        update(bn.movingMean, mean);
        update(bn.movingVariance, variance);
      });
    };
  }
}
