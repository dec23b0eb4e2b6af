import { describe, expect, it } from 'vitest';
import { tf, useBackend } from './backend.js';
import { prefersColumnForward } from './conv2d-forward.js';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.5);

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
/** Shapes where the filter outweighs the activations (the column route), plus one that keeps XNNPACK's kernel. */
const CASES: Array<{ x: [number, number, number, number]; f: [number, number, number, number]; stride: number; pad: Pad; column: boolean }> = [
  { x: [3, 1, 1, 32], f: [1, 1, 32, 40], stride: 1, pad: 'valid', column: true },
  { x: [2, 2, 2, 16], f: [3, 3, 16, 24], stride: 1, pad: 'same', column: true },
  { x: [2, 3, 3, 8], f: [1, 1, 8, 24], stride: 2, pad: 'valid', column: true },
  { x: [1, 3, 5, 4], f: [3, 3, 4, 40], stride: 2, pad: 'same', column: true },
  { x: [1, 4, 4, 3], f: [3, 3, 3, 20], stride: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]], column: true },
  { x: [3, 1, 1, 8], f: [3, 3, 8, 12], stride: 1, pad: 'same', column: true }, // only the centre tap sees a 1×1 map
  { x: [2, 1, 1, 8], f: [3, 3, 8, 2], stride: 2, pad: 'same', column: true },
  { x: [2, 6, 6, 4], f: [3, 3, 4, 3], stride: 1, pad: 'same', column: false },
];

async function forward(backend: 'wasm' | 'cpu', c: (typeof CASES)[number], fused: boolean): Promise<Float32Array> {
  await useBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 1), c.x);
    const w = tf.tensor4d(values(c.f.reduce((a, b) => a * b), 2), c.f);
    const bias = tf.tensor1d(values(c.f[3], 3));
    const y = fused ? tf.fused.conv2d({ x, filter: w, strides: c.stride, pad: c.pad, bias, activation: 'relu' }) : tf.conv2d(x, w, c.stride, c.pad);
    return y.dataSync() as Float32Array;
  });
}

describe('column-route forward convolution (wasm)', () => {
  for (const c of CASES) {
    for (const fused of [false, true]) {
      it(`${c.f[0]}×${c.f[1]}/${c.stride} ${JSON.stringify(c.pad)} on ${c.x.join('×')} → ${c.f[3]}${fused ? ' + bias + relu' : ''}: equals tfjs' cpu kernel`, async () => {
        const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.stride, 1, c.pad as 'same', undefined, false, 'channelsLast');
        expect(prefersColumnForward(info)).toBe(c.column);
        const expected = await forward('cpu', c, fused);
        const actual = await forward('wasm', c, fused);
        expect(actual.length).toBe(expected.length);
        let worst = 0;
        for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
        expect(worst).toBeLessThan(1e-5);
        if (fused) expect(actual.some((v) => v === 0)).toBe(true); // relu applied
      });
    }
  }

  it('follows new weights: a filter replaced between calls gives the new result (no stale cached operator)', async () => {
    await useBackend('wasm');
    const x = tf.tensor4d(values(32, 4), [1, 1, 1, 32]);
    const v = tf.variable(tf.tensor4d(values(32 * 48, 5), [1, 1, 32, 48]));
    const first = tf.conv2d(x, v, 1, 'valid').dataSync().slice();
    v.assign(tf.mul(v, 2) as tf.Tensor4D);
    const second = tf.conv2d(x, v, 1, 'valid').dataSync();
    for (let i = 0; i < first.length; i++) expect(second[i]).toBeCloseTo(2 * first[i]!, 4);
    tf.dispose([x, v]);
  });
});
