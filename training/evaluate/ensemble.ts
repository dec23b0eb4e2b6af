/**
 * @module Voting across classifiers that share labels: soft voting (the mean of the members' probabilities, then
 * argmax) and majority voting (each member's top-1 is one vote; a tie goes to the tied label with the larger
 * mean probability, so the answer never depends on member order).
 */
import { argmax } from '../../src/core/classify.js';

/** Per image, the mean of the members' probability vectors. `members[m][i]` is member m's scores for image i. */
export function softVote(members: Float32Array[][]): Float32Array[] {
  if (members.length === 0) throw new Error('an ensemble needs at least one member');
  return members[0]!.map((_, i) => {
    const mean = new Float32Array(members[0]![i]!.length);
    for (const member of members) member[i]!.forEach((p, c) => (mean[c]! += p / members.length));
    return mean;
  });
}

/** Per image, the label most members chose; ties broken by the soft vote's probability. */
export function majorityVote(members: Float32Array[][]): number[] {
  const soft = softVote(members);
  return soft.map((mean, i) => {
    const votes = new Array<number>(mean.length).fill(0);
    for (const member of members) votes[argmax(member[i]!)]! += 1;
    const most = Math.max(...votes);
    let best = -1;
    for (let c = 0; c < votes.length; c++) if (votes[c] === most && (best < 0 || mean[c]! > mean[best]!)) best = c;
    return best;
  });
}
