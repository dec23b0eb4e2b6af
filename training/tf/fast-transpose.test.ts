import { describe, expect, it } from 'vitest';
import { tf, useBackend } from './backend.js';
import { asBatchedTranspose } from './fast-transpose.js';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233));

/** The same op on tfjs' cpu backend (its own kernels) and on wasm (ours), as plain arrays. */
async function onBoth(op: () => tf.Tensor) {
  const run = async (backend: 'wasm' | 'cpu') => {
    await useBackend(backend);
    const t = op();
    const out = { shape: t.shape, values: Array.from(t.dataSync()) };
    t.dispose();
    return out;
  };
  return { wasm: await run('wasm'), cpu: await run('cpu') };
}

describe('fast transposes on the wasm backend', () => {
  it('is what the wasm backend runs for Transpose and BatchMatMul', async () => {
    await useBackend('wasm');
    expect(tf.getKernel(tf.Transpose, 'wasm')!.kernelFunc.name).toBe('fastTranspose');
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')!.kernelFunc.name).toBe('fastTransposedMatMul');
  });

  it('recognises the permutations that are batches of 2-D transposes', () => {
    expect(asBatchedTranspose([4, 5], [1, 0])).toEqual([1, 4, 5]);
    expect(asBatchedTranspose([3, 3, 8, 6], [0, 1, 3, 2])).toEqual([9, 8, 6]);
    expect(asBatchedTranspose([2, 3, 4, 5], [3, 0, 1, 2])).toEqual([1, 24, 5]);
    expect(asBatchedTranspose([2, 3, 4, 5], [2, 3, 0, 1])).toEqual([1, 6, 20]);
    expect(asBatchedTranspose([2, 3, 4], [0, 1, 2])).toBeNull();
    expect(asBatchedTranspose([2, 3, 4], [2, 1, 0])).toBeNull(); // a reversal is not a group swap
    expect(asBatchedTranspose([2, 3, 4, 5], [1, 0, 3, 2])).toBeNull();
  });

  for (const [shape, perm] of [
    [[37, 45], [1, 0]],
    [[3, 3, 33, 40], [0, 1, 3, 2]],
    [[2, 3, 4, 5], [3, 0, 1, 2]],
    [[2, 3, 4, 5], [2, 0, 1, 3]], // not a group swap: the original kernel
    [[2, 3, 4, 5], [2, 1, 0, 3]],
  ] as Array<[number[], number[]]>) {
    it(`transpose ${JSON.stringify(shape)} by ${JSON.stringify(perm)} equals tfjs' own`, async () => {
      const x = values(shape.reduce((a, b) => a * b), 1);
      const { wasm, cpu } = await onBoth(() => tf.transpose(tf.tensor(x, shape), perm));
      expect(wasm.shape).toEqual(cpu.shape);
      expect(wasm.values).toEqual(cpu.values);
    });
  }

  it('int32 tensors transpose too', async () => {
    const { wasm, cpu } = await onBoth(() => tf.transpose(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32')));
    expect(wasm).toEqual(cpu);
    expect(wasm.values).toEqual([1, 4, 2, 5, 3, 6]);
  });

  for (const [transposeA, transposeB] of [[true, false], [false, true], [true, true]]) {
    it(`matMul with transposeA=${transposeA}, transposeB=${transposeB} (batched) equals tfjs' cpu kernel`, async () => {
      const a = values(2 * 7 * 5, 2);
      const b = values(2 * 5 * 6, 3);
      const aShape = transposeA ? [2, 5, 7] : [2, 7, 5];
      const bShape = transposeB ? [2, 6, 5] : [2, 5, 6];
      const { wasm, cpu } = await onBoth(() => tf.matMul(tf.tensor3d(a, aShape as [number, number, number]), tf.tensor3d(b, bShape as [number, number, number]), transposeA, transposeB));
      expect(wasm.shape).toEqual([2, 7, 6]);
      expect(wasm.shape).toEqual(cpu.shape);
      for (let i = 0; i < cpu.values.length; i++) expect(Math.abs(wasm.values[i]! - cpu.values[i]!)).toBeLessThan(1e-5);
    });
  }

  it('a·bᵀ with the larger b (a Dense layer\'s input gradient) equals tfjs\' cpu kernel', async () => {
    const a = values(3 * 20, 6);
    const b = values(30 * 20, 7);
    const { wasm, cpu } = await onBoth(() => tf.matMul(tf.tensor2d(a, [3, 20]), tf.tensor2d(b, [30, 20]), false, true));
    expect(wasm.shape).toEqual([3, 30]);
    for (let i = 0; i < cpu.values.length; i++) expect(Math.abs(wasm.values[i]! - cpu.values[i]!)).toBeLessThan(1e-5);
    await useBackend('wasm');
    const [ta, tb] = [tf.tensor2d(a, [3, 20]), tf.tensor2d(b, [30, 20])];
    tf.matMul(ta, tb, false, true).dispose();
    const before = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) tf.matMul(ta, tb, false, true).dispose();
    expect(tf.engine().backend.numDataIds()).toBe(before); // the transposed copies are freed on the backend
    tf.dispose([ta, tb]);
  });

  it('frees the transposed copies it makes for matMul', async () => {
    await useBackend('wasm');
    const a = tf.tensor2d(values(12, 4), [4, 3]);
    const b = tf.tensor2d(values(12, 5), [4, 3]);
    tf.matMul(a, b, true, false).dispose();
    const before = tf.memory().numBytes;
    for (let i = 0; i < 5; i++) tf.matMul(a, b, true, false).dispose();
    expect(tf.memory().numBytes).toBe(before);
    tf.dispose([a, b]);
  });
});
