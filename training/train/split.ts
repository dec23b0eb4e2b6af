/** @module Stratified, seeded train/validation(/test) splits of a folder-per-class data set. */
import { seededRandom, shuffle } from '../data/random.js';
import type { LabelledFile } from '../data/folder.js';

export interface Split {
  train: LabelledFile[];
  val: LabelledFile[];
}

/**
 * Holds out `fraction` of every class (rounded, at least one image when the class has two or more) so a
 * small class is never missing from validation; the same seed gives the same split.
 */
export function stratifiedSplit(files: LabelledFile[], fraction: number, seed: number): Split {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`the validation fraction must be in (0, 1), got ${fraction}`);
  const random = seededRandom(seed);
  const byClass = new Map<number, LabelledFile[]>();
  for (const f of files) byClass.set(f.label, [...(byClass.get(f.label) ?? []), f]);
  const split: Split = { train: [], val: [] };
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = shuffle([...byClass.get(label)!], random);
    const held = members.length < 2 ? 0 : Math.min(members.length - 1, Math.max(1, Math.round(members.length * fraction)));
    split.val.push(...members.slice(0, held));
    split.train.push(...members.slice(held));
  }
  return split;
}

/** A seed for the test split that no validation split of `seed` shares (a prime offset: any fixed one would do). */
export const testSeedOf = (seed: number) => seed + 7919;

export interface ThreeWaySplit extends Split {
  test: LabelledFile[];
}

/**
 * Holds out a test split first (`testFraction` of every class, its own seed), then the validation split from
 * the rest exactly as `stratifiedSplit` does. With `testFraction` 0 the result is `stratifiedSplit`'s, test empty.
 */
export function threeWaySplit(files: LabelledFile[], testFraction: number, valFraction: number, seed: number): ThreeWaySplit {
  if (testFraction === 0) return { ...stratifiedSplit(files, valFraction, seed), test: [] };
  const { train: rest, val: test } = stratifiedSplit(files, testFraction, testSeedOf(seed));
  return { ...stratifiedSplit(rest, valFraction, seed), test };
}
