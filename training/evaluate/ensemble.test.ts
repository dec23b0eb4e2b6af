/** Soft and majority voting on hand-computed cases. */
import { describe, expect, it } from 'vitest';
import { majorityVote, softVote } from './ensemble.js';

const f = (rows: number[][]) => rows.map((r) => Float32Array.from(r));

describe('ensemble voting', () => {
  // Three members, two images, three labels.
  const a = f([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]);
  const b = f([[0.1, 0.5, 0.4], [0.1, 0.5, 0.4]]);
  const c = f([[0.2, 0.45, 0.35], [0.5, 0.3, 0.2]]);

  it('soft voting averages the probabilities', () => {
    const mean = softVote([a, b, c]);
    // image 0: (0.6+0.1+0.2)/3 = 0.3, (0.3+0.5+0.45)/3 = 0.41667, (0.1+0.4+0.35)/3 = 0.28333
    expect(Array.from(mean[0]!)).toEqual([expect.closeTo(0.3, 6), expect.closeTo(0.41667, 4), expect.closeTo(0.28333, 4)]);
    // image 1: 0.26667, 0.33333, 0.4
    expect(Array.from(mean[1]!)).toEqual([expect.closeTo(0.26667, 4), expect.closeTo(0.33333, 4), expect.closeTo(0.4, 6)]);
  });

  it('majority voting counts top-1 votes and breaks ties by the mean probability', () => {
    // image 0: votes 0, 1, 1 → label 1. image 1: votes 2, 1, 0 (a three-way tie) → the largest mean, label 2.
    expect(majorityVote([a, b, c])).toEqual([1, 2]);
    // Two members that disagree: the tie goes to the label the soft vote prefers, whatever the order.
    const x = f([[0.55, 0.45, 0]]);
    const y = f([[0.3, 0.7, 0]]);
    expect(majorityVote([x, y])).toEqual([1]);
    expect(majorityVote([y, x])).toEqual([1]);
  });

  it('an ensemble of one is that member', () => {
    expect(softVote([a]).map((r) => Array.from(r))).toEqual(a.map((r) => Array.from(r)));
    expect(majorityVote([a])).toEqual([0, 2]);
  });
});
