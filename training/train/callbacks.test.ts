import { describe, expect, it } from 'vitest';
import { afterEpoch, initialCallbackState, type CallbackOptions } from './callbacks.js';

const options: CallbackOptions = { patience: 3, lrPatience: 2, lrFactor: 0.5, minLearningRate: 1e-6, minDelta: 0 };

/** Feeds validation losses and returns every decision. */
function run(losses: number[], o = options, lr = 1e-3) {
  let state = initialCallbackState(lr);
  return losses.map((loss, i) => {
    const d = afterEpoch(state, loss, { stage: 1, epoch: i + 1 }, o);
    state = d.state;
    return d;
  });
}

describe('training callbacks', () => {
  it('saves only improvements and remembers where the best was', () => {
    const d = run([1.0, 0.8, 0.9, 0.7, 0.75]);
    expect(d.map((x) => x.saveBest)).toEqual([true, true, false, true, false]);
    expect(d.at(-1)!.state.bestValLoss).toBe(0.7);
    expect(d.at(-1)!.state.bestAt).toEqual({ stage: 1, epoch: 4 });
  });

  it('early stopping fires after `patience` epochs without improvement, not before', () => {
    const d = run([1.0, 0.9, 0.95, 0.91, 0.92, 0.5]);
    expect(d.map((x) => x.stop)).toEqual([false, false, false, false, true, false]);
    expect(d[4]!.state.bestAt).toEqual({ stage: 1, epoch: 2 }); // what restore-best goes back to
  });

  it('ReduceLROnPlateau cuts the rate every `lrPatience` flat epochs, down to the floor', () => {
    const d = run([1, 1, 1, 1, 1], { ...options, patience: 99 }, 4e-6);
    expect(d.map((x) => x.reducedLearningRate)).toEqual([false, false, true, false, true]);
    expect(d.map((x) => x.state.learningRate)).toEqual([4e-6, 4e-6, 2e-6, 2e-6, 1e-6]);
    const floor = run([1, 1, 1, 1, 1, 1, 1], { ...options, patience: 99 }, 1e-6);
    expect(floor.some((x) => x.reducedLearningRate)).toBe(false);
  });

  it('a NaN loss never counts as an improvement', () => {
    const d = run([1, Number.NaN, Number.NaN, Number.NaN]);
    expect(d.map((x) => x.saveBest)).toEqual([true, false, false, false]);
    expect(d.at(-1)!.stop).toBe(true);
  });

  it('a new stage keeps the run-wide best but counts patience afresh', () => {
    const stage1 = run([1.0, 0.6]);
    let state = initialCallbackState(1e-5, stage1.at(-1)!.state.bestValLoss, stage1.at(-1)!.state.bestAt);
    const d = afterEpoch(state, 0.7, { stage: 2, epoch: 1 }, options);
    expect(d.saveBest).toBe(false); // worse than the stage-1 best
    expect(d.state.sinceImprovement).toBe(0); // but the stage's own first epoch
    state = d.state;
    expect(afterEpoch(state, 0.55, { stage: 2, epoch: 2 }, options).saveBest).toBe(true);
  });
});
