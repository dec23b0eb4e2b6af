/** @module Model output → ranked labels: softmax when the graph gives logits, then top-k. */

export interface Ranked {
  index: number;
  label: string;
  score: number;
}

/** Numerically stable softmax. */
export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** The k highest scores, best first (ties keep the lower index first). */
export function topK(scores: ArrayLike<number>, labels: readonly string[], k: number): Ranked[] {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, Math.max(0, Math.min(k, scores.length))).map((index) => ({ index, label: labels[index] ?? String(index), score: scores[index] }));
}

/** Index of the best score. */
export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}
