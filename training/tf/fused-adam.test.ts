import { describe, expect, it } from 'vitest';
import { tf, useBackend } from './backend.js';
import { adamUpdate, createAdamState } from './fused-adam.js';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.5);

describe('fused Adam', () => {
  it('matches tf.train.adam over several steps with a changing learning rate', async () => {
    await useBackend('wasm');
    const shapes = [[3, 3, 4, 5], [5], [7, 2]];
    const ours = shapes.map((s, i) => tf.variable(tf.tensor(values(s.reduce((a, b) => a * b), i), s)));
    const theirs = shapes.map((s, i) => tf.variable(tf.tensor(values(s.reduce((a, b) => a * b), i), s)));
    const state = createAdamState(ours.map((v) => v.size));
    const reference = tf.train.adam(1e-2);
    for (let step = 0; step < 4; step++) {
      const learningRate = 1e-2 / (step + 1);
      const gradients = shapes.map((s, i) => values(s.reduce((a, b) => a * b), 10 * step + i + 3));
      adamUpdate(ours, (i) => gradients[i]!, state, learningRate);
      (reference as unknown as { learningRate: number }).learningRate = learningRate;
      reference.applyGradients(theirs.map((v, i) => ({ name: v.name, tensor: tf.tensor(gradients[i]!, shapes[i]) })));
    }
    let worst = 0;
    let moved = 0;
    ours.forEach((v, i) => {
      const a = v.dataSync();
      const b = theirs[i]!.dataSync();
      const start = values(v.size, i);
      for (let k = 0; k < a.length; k++) {
        worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
        moved = Math.max(moved, Math.abs(a[k]! - start[k]!));
      }
    });
    expect(moved).toBeGreaterThan(1e-3); // the update did something
    expect(worst).toBeLessThan(1e-6);
    tf.dispose([...ours, ...theirs]);
    reference.dispose();
  });

  it('refuses a gradient of the wrong length', async () => {
    await useBackend('wasm');
    const v = tf.variable(tf.zeros([4]));
    expect(() => adamUpdate([v], () => new Float32Array(3), createAdamState([4]), 1e-3)).toThrow(/lengths differ/);
    v.dispose();
  });
});
