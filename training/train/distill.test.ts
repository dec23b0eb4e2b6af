import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../data/random.js';
import { tf, useBackend } from '../tf/backend.js';
import { distillationLoss, soften } from './distill.js';
import { crossEntropy } from './loss.js';
import { trainEpoch, type BatchSource } from './loop.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const scalar = (t: tf.Tensor) => t.dataSync()[0]!;
const y = () => tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
const student = () => tf.tensor2d([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1]]);

describe('distillation loss', () => {
  it('softening keeps the ranking, flattens it for T > 1, and is the identity at T = 1', () => {
    const p = student();
    expect(Array.from(soften(p, 1).dataSync())).toEqual(Array.from(p.dataSync()).map((v) => expect.closeTo(v, 5)));
    const soft = soften(p, 4).arraySync() as number[][];
    expect(soft[0]![0]).toBeGreaterThan(soft[0]![1]!);
    expect(soft[0]![1]).toBeGreaterThan(soft[0]![2]!);
    expect(soft[0]![0]).toBeLessThan(0.7);
    soft.forEach((row) => expect(row.reduce((a, b) => a + b)).toBeCloseTo(1, 5));
  });

  it("is the labels' cross-entropy scaled by 1 − α when the student answers as the teacher does, and grows as they part", () => {
    const ce = scalar(crossEntropy(y(), student()));
    expect(scalar(distillationLoss(y(), student(), student(), { weight: 0.5, temperature: 4 }))).toBeCloseTo(0.5 * ce, 5);
    expect(scalar(distillationLoss(y(), student(), tf.tensor2d([[0.1, 0.2, 0.7], [0.3, 0.1, 0.6]]), { weight: 0.5, temperature: 4 }))).toBeGreaterThan(0.5 * ce + 0.01);
  });

  it('fine-tuning with a teacher and α near 1 moves the student towards the teacher, against the labels', async () => {
    const random = seededRandom(3);
    const xs = Array.from({ length: 32 }, () => Array.from({ length: 4 }, () => random.uniform(-1, 1)));
    const source: BatchSource = {
      count: xs.length,
      // Labels say class 0 for everything; the teacher says class 2.
      batch: (indices) => ({ xs: [tf.tensor2d(indices.map((i) => xs[i]!))], y: tf.oneHot(tf.fill([indices.length], 0, 'int32') as tf.Tensor1D, 3).toFloat() as tf.Tensor2D }),
    };
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) })] });
    const teacher = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax', kernelInitializer: 'zeros', biasInitializer: tf.initializers.constant({ value: 0 }) })] });
    teacher.layers[0]!.setWeights([tf.zeros([4, 3]), tf.tensor1d([0, 0, 3])]);
    const meanP = () => (tf.mean(model.predict(tf.tensor2d(xs)) as tf.Tensor, 0).arraySync() as number[]);
    const before = meanP();
    for (let e = 0; e < 20; e++) {
      await trainEpoch({ model, optimizer: tf.train.sgd(0.5), source, batchSize: 8, accumulate: 1, learningRate: 0.5, l2: 0, random: seededRandom(e), title: 't', distillation: { teacher, weight: 0.95, temperature: 2 } });
    }
    const after = meanP();
    expect(after[2]).toBeGreaterThan(before[2]! + 0.2);
    expect(after[2]).toBeGreaterThan(after[0]!);
  });
});
