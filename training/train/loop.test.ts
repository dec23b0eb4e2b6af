import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../data/random.js';
import { tf, useBackend } from '../tf/backend.js';
import { trainEpoch, type BatchSource } from './loop.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A tiny deterministic classifier and data set: gradient accumulation is arithmetic, not architecture. */
function setup() {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }), tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })] });
  const random = seededRandom(4);
  const xs = Array.from({ length: 16 }, () => Array.from({ length: 6 }, () => random.uniform(-1, 1)));
  const labels = xs.map((x) => (x[0]! > 0 ? 0 : x[1]! > 0 ? 1 : 2));
  const source: BatchSource = {
    count: xs.length,
    batch: (indices) => ({ xs: [tf.tensor2d(indices.map((i) => xs[i]!))], y: tf.oneHot(tf.tensor1d(indices.map((i) => labels[i]!), 'int32'), 3).toFloat() as tf.Tensor2D }),
  };
  return { model, source };
}

const weightsOf = (m: tf.LayersModel) => m.getWeights().flatMap((w) => Array.from(w.dataSync()));

describe('training loop', () => {
  it('accumulating 2 micro-batches of 4 makes the same update as one batch of 8', async () => {
    const a = setup();
    const b = setup();
    expect(weightsOf(a.model)).toEqual(weightsOf(b.model));
    const common = { learningRate: 0.5, l2: 0, title: 't' };
    const ra = await trainEpoch({ ...common, model: a.model, optimizer: tf.train.sgd(0.5), source: a.source, batchSize: 8, accumulate: 1, random: seededRandom(9) });
    const rb = await trainEpoch({ ...common, model: b.model, optimizer: tf.train.sgd(0.5), source: b.source, batchSize: 4, accumulate: 2, random: seededRandom(9) });
    expect([ra.steps, rb.steps]).toEqual([2, 4]);
    const [wa, wb] = [weightsOf(a.model), weightsOf(b.model)];
    expect(wa.some((v, i) => v !== weightsOf(setup().model)[i])).toBe(true); // it did train
    wa.forEach((v, i) => expect(wb[i]).toBeCloseTo(v, 5));
    // Without accumulation, batches of 4 take four smaller steps: a different result.
    const c = setup();
    await trainEpoch({ ...common, model: c.model, optimizer: tf.train.sgd(0.5), source: c.source, batchSize: 4, accumulate: 1, random: seededRandom(9) });
    expect(Math.max(...weightsOf(c.model).map((v, i) => Math.abs(v - wa[i]!)))).toBeGreaterThan(1e-3);
  });

  it('stops between steps when interrupted, reporting the epoch as incomplete', async () => {
    const { model, source } = setup();
    let calls = 0;
    const r = await trainEpoch({ model, optimizer: tf.train.sgd(0.1), source, batchSize: 2, accumulate: 1, learningRate: 0.1, l2: 0, random: seededRandom(1), title: 't', interrupted: () => ++calls > 3 });
    expect(r).toMatchObject({ steps: 3, completed: false });
  });
});
