import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from './split.js';

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
});
