import { describe, expect, it } from 'vitest';
import { seededRandom } from '../data/random.js';
import { lateSwapper } from './late-pool.js';

// 10 regular images (labels 0..4 twice), then a pool of 4 images of class 4.
const labels = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 4, 4, 4];
const pool = { first: 10, label: 4, fromStep: 100, probability: 0.4 };

describe('late pool', () => {
  it('leaves every batch before fromStep unchanged', () => {
    const swap = lateSwapper(pool, labels, labels.length, seededRandom(1));
    for (let step = 0; step < 100; step++) expect(swap(step, [4, 9, 4, 0])).toEqual([4, 9, 4, 0]);
  });

  it('from fromStep, swaps about `probability` of the class\u2019s images for pool images, and nothing else', () => {
    const run = (seed: number) => {
      const swap = lateSwapper(pool, labels, labels.length, seededRandom(seed));
      const out: number[] = [];
      for (let step = 100; step < 1100; step++) out.push(...swap(step, [0, 4, 1, 9, 3]));
      return out;
    };
    const out = run(2);
    const classSlots = out.filter((_, k) => k % 5 === 1 || k % 5 === 3);
    const others = out.filter((_, k) => k % 5 !== 1 && k % 5 !== 3);
    expect(others).toEqual(Array.from({ length: 1000 }, () => [0, 1, 3]).flat());
    const swapped = classSlots.filter((i) => i >= pool.first);
    expect(swapped.length / classSlots.length).toBeGreaterThan(0.36);
    expect(swapped.length / classSlots.length).toBeLessThan(0.44);
    expect(new Set(swapped)).toEqual(new Set([10, 11, 12, 13])); // every pool image, only pool images
    expect(classSlots.filter((i) => i < pool.first).every((i) => i === 4 || i === 9)).toBe(true);
    expect(run(2)).toEqual(out);
    expect(run(3)).not.toEqual(out);
  });
});
