import { describe, expect, it } from 'vitest';
import { tf, useBackend } from './backend.js';
import { adamStepInto, createAdamState } from './fused-adam.js';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.5);

describe('fused Adam', () => {
  it('matches tf.train.adam over several steps with a changing learning rate', async () => {
    await useBackend('wasm');
    const shapes = [[3, 3, 4, 5], [5], [7, 2]];
    const ours = shapes.map((s, i) => values(s.reduce((a, b) => a * b), i));
    const theirs = shapes.map((s, i) => tf.variable(tf.tensor(values(s.reduce((a, b) => a * b), i), s)));
    const state = createAdamState(ours.map((v) => v.length));
    const reference = tf.train.adam(1e-2);
    for (let step = 0; step < 4; step++) {
      const learningRate = 1e-2 / (step + 1);
      const gradients = shapes.map((s, i) => values(s.reduce((a, b) => a * b), 10 * step + i + 3));
      ours.forEach((w, i) => adamStepInto(w, gradients[i]!, state.m[i]!, state.v[i]!, w, learningRate, step + 1));
      (reference as unknown as { learningRate: number }).learningRate = learningRate;
      reference.applyGradients(theirs.map((v, i) => ({ name: v.name, tensor: tf.tensor(gradients[i]!, shapes[i]) })));
    }
    let worst = 0;
    let moved = 0;
    ours.forEach((a, i) => {
      const b = theirs[i]!.dataSync();
      const start = values(a.length, i);
      for (let k = 0; k < a.length; k++) {
        worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
        moved = Math.max(moved, Math.abs(a[k]! - start[k]!));
      }
    });
    expect(moved).toBeGreaterThan(1e-3); // the update did something
    expect(worst).toBeLessThan(1e-6);
    tf.dispose(theirs);
    reference.dispose();
  });

  it('takes the mean of several gradients (one per data-parallel worker) in the same pass', () => {
    const n = 37;
    for (const count of [2, 3]) {
      const parts = Array.from({ length: count }, (_, r) => values(n, 50 + r));
      const mean = new Float32Array(n).map((_, k) => parts.reduce((sum, p) => sum + p[k]!, 0) / count);
      const [a, b] = [values(n, 7), values(n, 7)];
      const [sa, sb] = [createAdamState([n]), createAdamState([n])];
      for (let step = 1; step <= 3; step++) {
        adamStepInto(a, parts, sa.m[0]!, sa.v[0]!, a, 1e-2, step);
        adamStepInto(b, mean, sb.m[0]!, sb.v[0]!, b, 1e-2, step);
      }
      let worst = 0;
      for (let k = 0; k < n; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
      expect(worst).toBeLessThan(1e-6);
      expect(Math.abs(a[0]! - values(n, 7)[0]!)).toBeGreaterThan(1e-3);
    }
  });

  it('refuses a gradient of the wrong length', async () => {
    await useBackend('wasm');
    const w = new Float32Array(4);
    const { m, v } = createAdamState([4]);
    expect(() => adamStepInto(w, new Float32Array(3), m[0]!, v[0]!, w, 1e-3, 1)).toThrow(/lengths differ/);
    expect(() => adamStepInto(w, [new Float32Array(4), new Float32Array(5)], m[0]!, v[0]!, w, 1e-3, 1)).toThrow(/lengths differ/);
    expect(() => adamStepInto(w, [], m[0]!, v[0]!, w, 1e-3, 1)).toThrow(/lengths differ/);
  });
});
