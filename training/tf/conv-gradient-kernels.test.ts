import { describe, expect, it } from 'vitest';
import { tf, useBackend } from './backend.js';
import { conv2dInputGradient, preferredInputGradient } from './conv2d-backprop-input.js';

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
  // 3×3 on a 1×1 map (conv5 at 32 px): only the centre tap sees the input.
  { x: [2, 1, 1, 6], f: [3, 3, 6, 5], stride: 1, pad: 'same' },
  { x: [2, 1, 1, 6], f: [3, 3, 6, 5], stride: 2, pad: 'same' },
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
  const deep: typeof CONFIGS = [{ x: [2, 2, 2, 16], f: [3, 3, 16, 24], stride: 1, pad: 'same' }, { x: [3, 1, 1, 32], f: [1, 1, 32, 40], stride: 1, pad: 'valid' }];
  for (const c of [...CONFIGS, ...deep]) {
    it(`${c.f[0]}×${c.f[1]}/${c.stride} ${c.pad} on ${c.x.join('×')}: both input-gradient strategies equal tfjs' cpu kernel`, async () => {
      const { dx: expected } = await gradients('cpu', c);
      await useBackend('wasm');
      const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 1), c.x);
      const w = tf.tensor4d(values(c.f.reduce((a, b) => a * b), 2), c.f);
      const y = tf.conv2d(x, w, c.stride, c.pad);
      const r = tf.tensor4d(values(y.size, 3), y.shape);
      for (const mode of ['filter', 'activation'] as const) {
        const dx = conv2dInputGradient(r, w, c.x, c.stride, c.pad, undefined, mode);
        const got = Array.from(dx.dataSync());
        expect(got.length).toBe(expected.length);
        expect(got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0), mode).toBeLessThan(1e-4);
        dx.dispose();
      }
      tf.dispose([x, w, y, r]);
    });
  }

  it('picks the activation strategy deep in the network (tiny maps, big filters) and the filter one early', () => {
    expect(preferredInputGradient([16, 1, 1, 512], [3, 3, 512, 512], [16, 1, 1, 512])).toBe('activation');
    expect(preferredInputGradient([16, 1, 1, 2048], [1, 1, 512, 2048], [16, 1, 1, 512])).toBe('activation');
    expect(preferredInputGradient([16, 8, 8, 64], [3, 3, 64, 64], [16, 8, 8, 64])).toBe('filter');
    expect(preferredInputGradient([16, 16, 16, 64], [7, 7, 3, 64], [16, 38, 38, 3])).toBe('filter');
  });

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

  it('inside a real training step: every weight gradient of a ResNet stem + stage matches the cpu backend', async () => {
    // The ResNet50 building blocks (ZeroPadding + 7×7/2 stem, max-pool, a projecting bottleneck stage with a
    // 1×1/2 shortcut and 3×3 'same' convs, BN in training mode), small enough that float32 round-off does
    // not swamp the comparison (in the full 50-layer net, near-zero BN variances amplify it to ~1e-2).
    const tfl = tf;
    const { stack } = await import('../network/resnet.js');
    const grads = async (backend: 'wasm' | 'cpu') => {
      await useBackend(backend);
      const ctx = { variant: 'v1' as const, convBias: true, bnEpsilon: 1.001e-5, bnMomentum: 0.9, zeroInitResidual: false, seed: 9 };
      const input = tfl.input({ shape: [32, 32, 3] });
      let h = tfl.layers.zeroPadding2d({ padding: 3 }).apply(input) as tf.SymbolicTensor;
      h = tfl.layers.conv2d({ filters: 8, kernelSize: 7, strides: 2, kernelInitializer: tfl.initializers.heNormal({ seed: 1 }) }).apply(h) as tf.SymbolicTensor;
      h = tfl.layers.batchNormalization({ axis: 3 }).apply(h) as tf.SymbolicTensor;
      h = tfl.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
      h = tfl.layers.zeroPadding2d({ padding: 1 }).apply(h) as tf.SymbolicTensor;
      h = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(h) as tf.SymbolicTensor;
      h = stack(h, [{ reduce: 4, spatial: 4 }, { reduce: 4, spatial: 4 }], 16, 2, 'conv2', ctx);
      h = tfl.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
      const out = tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(h) as tf.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: out });
      const x = tf.tensor4d(values(4 * 32 * 32 * 3, 5).map((v) => v * 2), [4, 32, 32, 3]);
      const y = tf.tensor2d([[1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]]);
      const { grads: g } = tf.variableGrads(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
      const result = model.trainableWeights.map((w) => ({ name: w.originalName, values: g[(w.read() as tf.Variable).name]!.dataSync() as Float32Array }));
      model.dispose();
      tf.dispose([x, y, ...Object.values(g)]);
      return result;
    };
    const wasm = await grads('wasm');
    const cpu = await grads('cpu');
    let convKernels = 0;
    for (let i = 0; i < cpu.length; i++) {
      const { name, values: b } = cpu[i]!;
      if (name.endsWith('/bias') && !name.startsWith('dense')) continue; // exactly 0 in theory (BN follows): pure round-off
      const a = wasm[i]!.values;
      let scale = 1e-12;
      let worst = 0;
      for (let k = 0; k < b.length; k++) {
        scale = Math.max(scale, Math.abs(b[k]!));
        worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
      }
      expect(worst / scale, name).toBeLessThan(1e-3);
      if (name.includes('conv2d') || name.includes('_conv/')) convKernels += name.endsWith('kernel') ? 1 : 0;
    }
    expect(convKernels).toBe(8); // stem + 2 blocks × 3 convs + 1 projection
  });
});
