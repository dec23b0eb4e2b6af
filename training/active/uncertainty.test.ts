/** Uncertainty measures on hand-computed values, and the ranking they give on a set with known probabilities. */
import { describe, expect, it } from 'vitest';
import { rankByUncertainty, uncertainty } from './uncertainty.js';

describe('uncertainty', () => {
  it('matches values computed by hand', () => {
    // [0.5, 0.3, 0.2]: entropy = −(0.5 ln 0.5 + 0.3 ln 0.3 + 0.2 ln 0.2) = 0.34657 + 0.36119 + 0.32189 = 1.02965
    expect(uncertainty([0.5, 0.3, 0.2], 'entropy')).toBeCloseTo(1.02965, 5);
    expect(uncertainty([0.5, 0.3, 0.2], 'margin')).toBeCloseTo(0.8, 12); // 1 − (0.5 − 0.3)
    expect(uncertainty([0.5, 0.3, 0.2], 'least-confidence')).toBeCloseTo(0.5, 12);
    // Uniform over 4: entropy ln 4, margin 1, least-confidence 0.75. Certain: all 0.
    expect(uncertainty([0.25, 0.25, 0.25, 0.25], 'entropy')).toBeCloseTo(Math.log(4), 12);
    expect(uncertainty([0.25, 0.25, 0.25, 0.25], 'margin')).toBe(1);
    expect(uncertainty([0.25, 0.25, 0.25, 0.25], 'least-confidence')).toBe(0.75);
    for (const m of ['entropy', 'margin', 'least-confidence'] as const) expect(uncertainty([0, 1, 0], m)).toBe(0);
    // The best two need not come first: [0.1, 0.6, 0.3] has margin 1 − (0.6 − 0.3) = 0.7.
    expect(uncertainty([0.1, 0.6, 0.3], 'margin')).toBeCloseTo(0.7, 12);
  });

  it('ranks a set with known probabilities exactly, most uncertain first, by each measure', () => {
    const scores = [
      [0.9, 0.05, 0.05], // entropy 0.3944, margin 0.15, lc 0.1
      [0.4, 0.35, 0.25], // entropy 1.0805, margin 0.95, lc 0.6
      [0.6, 0.4, 0.0], //   entropy 0.6730, margin 0.8, lc 0.4
      [0.5, 0.25, 0.25], // entropy 1.0397, margin 0.75, lc 0.5
    ];
    expect(rankByUncertainty(scores, 'entropy').map((r) => r.index)).toEqual([1, 3, 2, 0]);
    expect(rankByUncertainty(scores, 'margin').map((r) => r.index)).toEqual([1, 2, 3, 0]);
    expect(rankByUncertainty(scores, 'least-confidence').map((r) => r.index)).toEqual([1, 3, 2, 0]);
    expect(rankByUncertainty(scores, 'entropy').map((r) => r.predicted)).toEqual([0, 0, 0, 0]);
    expect(rankByUncertainty([[0.2, 0.8], [0.8, 0.2]], 'least-confidence').map((r) => [r.index, r.predicted])).toEqual([[0, 1], [1, 0]]); // tie: input order
  });
});
