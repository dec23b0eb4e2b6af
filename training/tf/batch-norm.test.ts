import { describe, expect, it } from 'vitest';
import { tf, useBackend } from './backend.js';
import { useFusedBatchNorm } from './batch-norm.js';

const values = (n: number, seed: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale + seed * 0.1);

/** A conv + BN model; returns its output, the gradients of Σ y·r and the BN moving statistics after one training call. */
async function run(backend: 'wasm' | 'cpu', fused: boolean) {
  await useBackend(backend);
  const input = tf.input({ shape: [5, 4, 3] });
  const conv = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.constant({ value: 0.05 }), biasInitializer: 'zeros' });
  const bn = tf.layers.batchNormalization({ momentum: 0.9, gammaInitializer: tf.initializers.constant({ value: 1.3 }), betaInitializer: tf.initializers.constant({ value: -0.2 }) });
  const model = tf.model({ inputs: input, outputs: bn.apply(conv.apply(input)) as tf.SymbolicTensor });
  if (fused) useFusedBatchNorm(model);
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(values(w.size, i + 1, 0.3), w.shape)));
  const x = tf.tensor4d(values(2 * 5 * 4 * 3, 7, 2), [2, 5, 4, 3]);
  const r = tf.tensor4d(values(2 * 5 * 4 * 6, 9), [2, 5, 4, 6]);
  const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  let y: number[] = [];
  const { grads } = tf.variableGrads(() => {
    const out = model.apply(x, { training: true }) as tf.Tensor;
    y = Array.from(out.dataSync());
    return tf.sum(tf.mul(out, r)) as tf.Scalar;
  }, variables);
  const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(model.apply(xi, { training: true }) as tf.Tensor, r)))(x);
  return {
    y,
    grads: variables.map((v) => Array.from(grads[v.name]!.dataSync())),
    dx: Array.from(dx.dataSync()),
    moving: model.getWeights().slice(-2).map((w) => Array.from(w.dataSync())),
  };
}

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('fused BatchNormalization (training mode)', () => {
  it("gives tfjs-layers' outputs, gradients and moving statistics (wasm and cpu)", async () => {
    const reference = await run('cpu', false);
    for (const backend of ['cpu', 'wasm'] as const) {
      const fused = await run(backend, true);
      expect(maxDiff(fused.y, reference.y)).toBeLessThan(1e-4);
      fused.grads.forEach((g, i) => expect(maxDiff(g, reference.grads[i]!)).toBeLessThan(1e-3));
      expect(maxDiff(fused.dx, reference.dx)).toBeLessThan(1e-3);
      // Two training calls updated the moving statistics (variableGrads, then grad).
      fused.moving.forEach((m, i) => expect(maxDiff(m, reference.moving[i]!)).toBeLessThan(1e-4));
    }
    // The check can fail: the gradients are not trivially zero.
    expect(Math.max(...reference.grads[0]!.map(Math.abs))).toBeGreaterThan(1e-3);
  });
});
