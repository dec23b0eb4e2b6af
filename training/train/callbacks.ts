/**
 * @module Keras-style training callbacks as plain state transitions (testable without a network):
 * best-model tracking on validation loss (ModelCheckpoint save_best_only), EarlyStopping with
 * restore-best, ReduceLROnPlateau.
 */

export interface CallbackOptions {
  /** Epochs without improvement before stopping the stage (EarlyStopping patience). */
  patience: number;
  /** Epochs without improvement before the learning rate is multiplied by `lrFactor`. */
  lrPatience: number;
  lrFactor: number;
  minLearningRate: number;
  /** An improvement must beat the best by more than this (Keras min_delta). */
  minDelta: number;
}

export const DEFAULT_CALLBACKS: CallbackOptions = { patience: 5, lrPatience: 2, lrFactor: 0.5, minLearningRate: 1e-7, minDelta: 0 };

export interface CallbackState {
  /** Best validation loss over the whole run (both stages) and where it was reached. */
  bestValLoss: number;
  bestAt: { stage: number; epoch: number } | null;
  /** Epochs since the stage last improved on its own best (EarlyStopping counts per stage, as per `fit`). */
  stageBest: number;
  sinceImprovement: number;
  sinceLrChange: number;
  learningRate: number;
}

export const initialCallbackState = (learningRate: number, bestValLoss = Infinity, bestAt: CallbackState['bestAt'] = null): CallbackState => ({
  bestValLoss,
  bestAt,
  stageBest: Infinity,
  sinceImprovement: 0,
  sinceLrChange: 0,
  learningRate,
});

export interface EpochDecision {
  state: CallbackState;
  /** Save this epoch's weights as the best checkpoint. */
  saveBest: boolean;
  /** Stop the stage (then restore the best weights). */
  stop: boolean;
  /** The learning rate was reduced for the next epoch. */
  reducedLearningRate: boolean;
}

export function afterEpoch(state: CallbackState, valLoss: number, at: { stage: number; epoch: number }, o: CallbackOptions): EpochDecision {
  const next = { ...state };
  const saveBest = Number.isFinite(valLoss) && valLoss < state.bestValLoss - o.minDelta;
  if (saveBest) {
    next.bestValLoss = valLoss;
    next.bestAt = at;
  }
  if (Number.isFinite(valLoss) && valLoss < state.stageBest - o.minDelta) {
    next.stageBest = valLoss;
    next.sinceImprovement = 0;
    next.sinceLrChange = 0;
  } else {
    next.sinceImprovement++;
    next.sinceLrChange++;
  }
  let reducedLearningRate = false;
  if (next.sinceLrChange >= o.lrPatience && next.learningRate > o.minLearningRate) {
    next.learningRate = Math.max(o.minLearningRate, next.learningRate * o.lrFactor);
    next.sinceLrChange = 0;
    reducedLearningRate = true;
  }
  return { state: next, saveBest, stop: next.sinceImprovement >= o.patience, reducedLearningRate };
}
