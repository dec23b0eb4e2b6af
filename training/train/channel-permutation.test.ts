import { describe, expect, it } from 'vitest';
import { seededRandom } from '../data/random.js';
import { CHANNEL_ORDERS, channelPermuter, permuteChannelsInto } from './channel-permutation.js';

describe('colour-channel permutation', () => {
  it('reorders each interleaved pixel as out[c] = in[order[c]], inside the given range only', () => {
    const xs = Float32Array.from([9, 9, 9, 1, 2, 3, 4, 5, 6, 9, 9, 9]);
    permuteChannelsInto(xs, 3, 2, [2, 0, 1]);
    expect(Array.from(xs)).toEqual([9, 9, 9, 3, 1, 2, 6, 4, 5, 9, 9, 9]);
  });

  it('offers the five non-identity orders of three channels', () => {
    expect(CHANNEL_ORDERS).toHaveLength(5);
    expect(new Set(CHANNEL_ORDERS.map((o) => o.join(''))).size).toBe(5);
    for (const o of CHANNEL_ORDERS) expect([...o].sort()).toEqual([0, 1, 2]);
    expect(CHANNEL_ORDERS.map((o) => o.join(''))).not.toContain('012');
  });

  it('permutes about the given share of images, never as the identity, reproducibly from its seed', () => {
    const run = (seed: number) => {
      const recolour = channelPermuter(0.3, seededRandom(seed));
      const changed: boolean[] = [];
      for (let i = 0; i < 2000; i++) {
        const xs = Float32Array.from([1, 2, 3, 1, 2, 3]);
        recolour(xs, 0, 2);
        changed.push(xs[0] !== 1 || xs[1] !== 2 || xs[2] !== 3);
        expect(xs[0]! + xs[1]! + xs[2]!).toBe(6); // a permutation: nothing lost or duplicated
      }
      return changed;
    };
    const first = run(5);
    const share = first.filter(Boolean).length / first.length;
    expect(share).toBeGreaterThan(0.26);
    expect(share).toBeLessThan(0.34);
    expect(run(5)).toEqual(first);
  });
});
