import { describe, expect, it } from 'vitest';
import { classificationMetrics, rocCurve } from './metrics.js';

describe('metrics against hand-computed values', () => {
  it('accuracy, confusion matrix, precision / recall / F1', () => {
    // truth:     0 0 0 1 1 2
    // predicted: 0 0 1 1 2 2
    const m = classificationMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]], 3);
    expect(m.top1).toBeCloseTo(4 / 6, 10);
    expect(m.confusion_matrix).toEqual([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    expect(m.per_class[0]).toMatchObject({ precision: 1, recall: 2 / 3, support: 3 });
    expect(m.per_class[0]!.f1).toBeCloseTo(0.8, 10);
    expect(m.per_class[1]).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(m.per_class[2]).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(m.per_class[2]!.f1).toBeCloseTo(2 / 3, 10);
    expect(m.macro_f1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 10);
  });
  it('ROC: perfect, inverted and tied scorers', () => {
    expect(rocCurve([0.9, 0.8, 0.2, 0.1], [true, true, false, false]).auc).toBe(1);
    expect(rocCurve([0.1, 0.2, 0.8, 0.9], [true, true, false, false]).auc).toBe(0);
    const tied = rocCurve([0.5, 0.5, 0.5, 0.5], [true, false, true, false]);
    expect(tied.auc).toBeCloseTo(0.5, 10);
    expect(tied.points).toEqual([[0, 0], [1, 1]]);
    // 3 positives, 2 negatives: 4 of the 6 (positive, negative) pairs are ranked right.
    expect(rocCurve([0.9, 0.7, 0.6, 0.4, 0.3], [true, false, true, true, false]).auc).toBeCloseTo(4 / 6, 10);
  });
});
