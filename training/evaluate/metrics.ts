/** @module Classification metrics: accuracy, per-class precision/recall/F1, confusion matrix, one-vs-rest ROC. */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
  roc_auc: number;
}

export interface ClassificationMetrics {
  top1: number;
  /** confusion_matrix[true][predicted] */
  confusion_matrix: number[][];
  per_class: ClassMetrics[];
  macro_f1: number;
  /** Per class: [false positive rate, true positive rate] points, from (0,0) to (1,1). */
  roc_curves: Array<Array<[number, number]>>;
}

/** One-vs-rest ROC points and area (trapezoid; ties handled by grouping equal scores). */
export function rocCurve(scores: number[], positive: boolean[]): { points: Array<[number, number]>; auc: number } {
  const pos = positive.filter(Boolean).length;
  const neg = positive.length - pos;
  if (pos === 0 || neg === 0) return { points: [[0, 0], [1, 1]], auc: NaN };
  const order = scores.map((s, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const points: Array<[number, number]> = [[0, 0]];
  let tp = 0;
  let fp = 0;
  let auc = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (positive[i]) tp++;
    else fp++;
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue;
    const [px, py] = points[points.length - 1]!;
    const x = fp / neg;
    const y = tp / pos;
    auc += (x - px) * (y + py) / 2;
    points.push([x, y]);
  }
  return { points, auc };
}

export function classificationMetrics(truth: number[], predicted: number[], scores: ArrayLike<number>[], classes: number): ClassificationMetrics {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) confusion[truth[i]!]![predicted[i]!]!++;
  const perClass: ClassMetrics[] = [];
  const rocCurves: Array<Array<[number, number]>> = [];
  for (let c = 0; c < classes; c++) {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predictedC = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predictedC === 0 ? 0 : tp / predictedC;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    const roc = rocCurve(scores.map((s) => s[c]!), truth.map((t) => t === c));
    perClass.push({ precision, recall, f1, support, roc_auc: roc.auc });
    rocCurves.push(roc.points);
  }
  const correct = truth.filter((t, i) => t === predicted[i]).length;
  return {
    top1: truth.length === 0 ? 0 : correct / truth.length,
    confusion_matrix: confusion,
    per_class: perClass,
    macro_f1: perClass.reduce((a, m) => a + m.f1, 0) / Math.max(1, classes),
    roc_curves: rocCurves,
  };
}
