import { describe, expect, it } from 'vitest';
import { tf, useBackend } from './backend.js';

/** Deterministic pseudo-random values. */
const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.5);

type Pad = 'same' | 'valid';
/** Every conv configuration ResNet50 uses: 7×7/2 valid (after ZeroPadding), 1×1/1, 1×1/2, 3×3/1 same; plus odd sizes. */
const CONFIGS: Array<{ x: [number, number, number, number]; f: [number, number, number, number]; stride: number; pad: Pad }> = [
  { x: [2, 11, 11, 3], f: [7, 7, 3, 4], stride: 2, pad: 'valid' },
  { x: [2, 6, 6, 5], f: [1, 1, 5, 6], stride: 1, pad: 'valid' },
  { x: [2, 7, 7, 5], f: [1, 1, 5, 6], stride: 2, pad: 'valid' },
  { x: [2, 6, 6, 4], f: [3, 3, 4, 3], stride: 1, pad: 'same' },
  { x: [1, 7, 5, 3], f: [3, 3, 3, 2], stride: 2, pad: 'same' },
];

/** Gradients of L = Σ conv(x, w)·r for a fixed r (so dL/dy = r), on the given backend. */
async function gradients(backend: 'wasm' | 'cpu', c: (typeof CONFIGS)[number]) {
  await useBackend(backend);
  const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 1), c.x);
  const w = tf.tensor4d(values(c.f.reduce((a, b) => a * b), 2), c.f);
  const y = tf.conv2d(x, w, c.stride, c.pad);
  const r = tf.tensor(values(y.size, 3), y.shape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)))([x, w]);
  const out = { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array, x: x.dataSync() as Float32Array, w: w.dataSync() as Float32Array, r: r.dataSync() as Float32Array, yShape: y.shape };
  tf.dispose([x, w, y, r, dx!, dw!]);
  return out;
}

/** L(x, w) in float64 by direct convolution (NHWC), for central differences. */
function loss(x: Float32Array | Float64Array, w: Float32Array | Float64Array, r: Float32Array, c: (typeof CONFIGS)[number], outH: number, outW: number) {
  const [n, h, wd, ci] = c.x;
  const [kh, kw, , co] = c.f;
  const padT = c.pad === 'same' ? Math.floor(Math.max((outH - 1) * c.stride + kh - h, 0) / 2) : 0;
  const padL = c.pad === 'same' ? Math.floor(Math.max((outW - 1) * c.stride + kw - wd, 0) / 2) : 0;
  let total = 0;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let o = 0; o < co; o++) {
          let acc = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = oy * c.stride + i - padT;
              const ix = ox * c.stride + j - padL;
              if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
              for (let k = 0; k < ci; k++) acc += x[((b * h + iy) * wd + ix) * ci + k]! * w[((i * kw + j) * ci + k) * co + o]!;
            }
          total += acc * r[((b * outH + oy) * outW + ox) * co + o]!;
        }
  return total;
}

describe('wasm conv gradient kernels', () => {
  for (const c of CONFIGS) {
    const name = `${c.f[0]}×${c.f[1]} stride ${c.stride} ${c.pad}, input ${c.x.join('×')}`;
    it(`${name}: match numeric gradients and tfjs' cpu kernels`, async () => {
      const wasm = await gradients('wasm', c);
      const cpu = await gradients('cpu', c);
      const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      expect(maxDiff(wasm.dw, cpu.dw)).toBeLessThan(1e-4);
      expect(maxDiff(wasm.dx, cpu.dx)).toBeLessThan(1e-4);
      // Central differences in float64 on a sample of coordinates.
      const [, outH, outW] = wasm.yShape;
      const eps = 1e-3;
      for (const [which, base, grad] of [['w', wasm.w, wasm.dw], ['x', wasm.x, wasm.dx]] as const) {
        for (let k = 0; k < base.length; k += Math.max(1, Math.floor(base.length / 12))) {
          const plus = Float64Array.from(base);
          const minus = Float64Array.from(base);
          plus[k]! += eps;
          minus[k]! -= eps;
          const numeric = which === 'w'
            ? (loss(wasm.x, plus, wasm.r, c, outH!, outW!) - loss(wasm.x, minus, wasm.r, c, outH!, outW!)) / (2 * eps)
            : (loss(plus, wasm.w, wasm.r, c, outH!, outW!) - loss(minus, wasm.w, wasm.r, c, outH!, outW!)) / (2 * eps);
          expect(Math.abs(numeric - grad[k]!), `d${which}[${k}]`).toBeLessThan(1e-3);
        }
      }
    });
  }

  it('inside a real training step: one Adam step of a ResNet-style net moves every weight as on the cpu backend', async () => {
    const { buildResNet50 } = await import('../model/resnet50.js');
    const step = async (backend: 'wasm' | 'cpu') => {
      await useBackend(backend);
      const model = buildResNet50({ inputSize: 32, classes: 3, seed: 4, bnMomentum: 0.9 });
      const x = tf.tensor4d(values(2 * 32 * 32 * 3, 5).map((v) => v * 100), [2, 32, 32, 3]);
      const y = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);
      const optimizer = tf.train.sgd(0.1);
      const before = model.trainableWeights.map((w) => w.read().dataSync().slice());
      optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
      const deltas = model.trainableWeights.map((w, i) => {
        const after = w.read().dataSync();
        return Float32Array.from(after, (v, k) => v - before[i]![k]!);
      });
      const names = model.trainableWeights.map((w) => w.originalName);
      model.dispose();
      tf.dispose([x, y]);
      return { deltas, names };
    };
    const wasm = await step('wasm');
    const cpu = await step('cpu');
    expect(wasm.names).toEqual(cpu.names);
    let compared = 0;
    for (let i = 0; i < wasm.deltas.length; i++) {
      const a = wasm.deltas[i]!;
      const b = cpu.deltas[i]!;
      const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
      const worst = a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k]!)), 0);
      expect(worst / scale, wasm.names[i]).toBeLessThan(2e-2);
      if (wasm.names[i]!.includes('_conv/kernel')) compared++;
    }
    expect(compared).toBe(53);
  });
});
