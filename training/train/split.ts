/** @module Stratified, seeded train/validation split of a folder-per-class data set. */
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
