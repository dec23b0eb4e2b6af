import { describe, expect, it } from 'vitest';
import { seededRandom } from '../data/random.js';
import { contrastReducer, reduceContrastInto } from './contrast.js';

describe('random contrast reduction', () => {
  it('pulls each channel towards its own mean by the factor, inside the given range only', () => {
    // Two pixels: channel 0 is {10, 30} (mean 20), channel 1 {0, 100} (mean 50), channel 2 {-4, -4}.
    const xs = Float32Array.from([7, 7, 7, 10, 0, -4, 30, 100, -4, 7, 7, 7]);
    reduceContrastInto(xs, 3, 2, 0.25);
    expect(Array.from(xs)).toEqual([7, 7, 7, 17.5, 37.5, -4, 22.5, 62.5, -4, 7, 7, 7]);
  });

  it('fades about the given share of images, by factors within [lowest, 1], reproducibly from its seed', () => {
    const run = (seed: number) => {
      const fade = contrastReducer(0.3, 0.4, seededRandom(seed));
      const factors: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const xs = Float32Array.from([0, 0, 0, 10, 20, 30]);
        fade(xs, 0, 2);
        const factor = (xs[3]! - xs[0]!) / 10;
        expect(xs[0]! + xs[3]!).toBeCloseTo(10, 4); // the mean stays
        expect((xs[4]! - xs[1]!) / 20).toBeCloseTo(factor, 4); // one factor for all channels
        factors.push(factor);
      }
      return factors;
    };
    const factors = run(3);
    const faded = factors.filter((f) => f < 0.999999);
    expect(faded.length / factors.length).toBeGreaterThan(0.26);
    expect(faded.length / factors.length).toBeLessThan(0.34);
    expect(Math.min(...faded)).toBeGreaterThanOrEqual(0.4 - 1e-6);
    expect(Math.min(...faded)).toBeLessThan(0.45);
    expect(run(3)).toEqual(factors);
  });
});
