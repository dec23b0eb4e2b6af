/**
 * @module Uncertainty of a classifier's answer, for choosing what to label next (active learning, uncertainty
 * sampling; Settles, "Active Learning Literature Survey", 2009, §3.1). Each is 0 for a certain answer and grows
 * with doubt, so "most uncertain first" is a descending sort whatever the measure:
 *   - `entropy`: −Σ p·ln p (nats; ln C when every one of C labels is equally likely);
 *   - `margin`: 1 − (p₁ − p₂), the best two labels' gap, turned around;
 *   - `least-confidence`: 1 − p₁.
 */
import { argmax } from '../../src/core/classify.js';

export const UNCERTAINTY_MEASURES = ['entropy', 'margin', 'least-confidence'] as const;
export type UncertaintyMeasure = (typeof UNCERTAINTY_MEASURES)[number];

/** The two largest probabilities. */
function bestTwo(p: ArrayLike<number>): [number, number] {
  let [first, second] = [-Infinity, -Infinity];
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (v > first) [first, second] = [v, first];
    else if (v > second) second = v;
  }
  return [first, second === -Infinity ? 0 : second];
}

export function uncertainty(p: ArrayLike<number>, measure: UncertaintyMeasure): number {
  if (measure === 'entropy') {
    let h = 0;
    for (let i = 0; i < p.length; i++) if (p[i]! > 0) h -= p[i]! * Math.log(p[i]!);
    return h;
  }
  const [first, second] = bestTwo(p);
  return measure === 'margin' ? 1 - (first - second) : 1 - first;
}

export interface Ranked {
  /** Index into the scored list. */
  index: number;
  predicted: number;
  uncertainty: number;
}

/** Every answer, most uncertain first (ties: the earlier item first, so a ranking is reproducible). */
export function rankByUncertainty(scores: ArrayLike<number>[], measure: UncertaintyMeasure): Ranked[] {
  return scores
    .map((p, index) => ({ index, predicted: argmax(p), uncertainty: uncertainty(p, measure) }))
    .sort((a, b) => b.uncertainty - a.uncertainty || a.index - b.index);
}
