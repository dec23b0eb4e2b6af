import { describe, expect, it } from 'vitest';
import { batchOrder } from './batch-order.js';

describe('batch order', () => {
  it('takes every image once per epoch, in a seeded order', () => {
    const next = batchOrder({ count: 12, batch: 4, seed: 3 });
    const epoch = [next(), next(), next()].flat();
    expect([...epoch].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(epoch).not.toEqual(Array.from({ length: 12 }, (_, i) => i));
    const again = batchOrder({ count: 12, batch: 4, seed: 3 });
    expect([again(), again(), again()].flat()).toEqual(epoch);
  });

  it('starts a new epoch when too few images are left for a full batch', () => {
    const next = batchOrder({ count: 10, batch: 4, seed: 1 });
    const first = [next(), next()].flat();
    expect(new Set(first).size).toBe(8);
    const third = next();
    expect(third).toHaveLength(4);
    expect(new Set(third).size).toBe(4);
  });
});
