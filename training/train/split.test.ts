import { describe, expect, it } from 'vitest';
import { stratifiedSplit, testSeedOf, threeWaySplit } from './split.js';

const files = (counts: number[]) => counts.flatMap((n, label) => Array.from({ length: n }, (_, i) => ({ path: `c${label}/${i}.jpg`, label })));

describe('stratified split', () => {
  it('holds out the fraction of every class, seeded and disjoint', () => {
    const all = files([50, 30, 7]);
    const a = stratifiedSplit(all, 0.2, 5);
    const count = (set: typeof all, label: number) => set.filter((f) => f.label === label).length;
    expect([0, 1, 2].map((l) => count(a.val, l))).toEqual([10, 6, 1]);
    expect(a.train.length + a.val.length).toBe(all.length);
    const paths = new Set(a.train.map((f) => f.path));
    expect(a.val.some((f) => paths.has(f.path))).toBe(false);
    expect(stratifiedSplit(all, 0.2, 5)).toEqual(a);
    expect(stratifiedSplit(all, 0.2, 6).val).not.toEqual(a.val);
  });

  it('never empties a class from training, and keeps a lone image for training', () => {
    const s = stratifiedSplit(files([2, 1]), 0.9, 1);
    expect(s.train.filter((f) => f.label === 0)).toHaveLength(1);
    expect(s.val.filter((f) => f.label === 1)).toHaveLength(0);
    expect(() => stratifiedSplit(files([4]), 1, 1)).toThrow(RangeError);
  });

  it('a test split: held out first with its own seed, disjoint from train and validation, stratified', () => {
    const all = files([50, 30, 10]);
    const s = threeWaySplit(all, 0.2, 0.25, 5);
    const count = (set: typeof all, label: number) => set.filter((f) => f.label === label).length;
    expect([0, 1, 2].map((l) => count(s.test, l))).toEqual([10, 6, 2]);
    expect([0, 1, 2].map((l) => count(s.val, l))).toEqual([10, 6, 2]); // a quarter of what is left
    const seen = [...s.train, ...s.val, ...s.test].map((f) => f.path);
    expect(new Set(seen).size).toBe(all.length);
    expect(seen).toHaveLength(all.length);
    // Not the validation split of the same seed: a test split must not be what a plain run validated on.
    expect(s.test).not.toEqual(stratifiedSplit(all, 0.2, 5).val);
    expect(testSeedOf(5)).not.toBe(5);
    expect(threeWaySplit(all, 0.2, 0.25, 5)).toEqual(s);
  });

  it('without a test fraction it is the plain validation split (old runs keep their splits)', () => {
    const all = files([20, 12]);
    expect(threeWaySplit(all, 0, 0.2, 3)).toEqual({ ...stratifiedSplit(all, 0.2, 3), test: [] });
  });
});
