/**
 * @module `pipeline train`: the reference recipe's transfer learning in Node. Data (folder per class, seeded
 * stratified split) → ResNet50 with the recipe's head and pretrained weights → stage 1: the first `freeze`
 * layers frozen, their features computed once natively and the rest trained on them → stage 2: everything
 * unfrozen at a lower learning rate on augmented images → best weights → fp32 ONNX → int8 (calibrated on
 * training images) → metrics, manifest and an HTML report.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';
import { hasSplitFolders, readFolderDataset, type LabelledFile } from '../data/folder.js';
import { loadImageTensors, type LoadedSet } from '../data/load.js';
import { seededRandom } from '../data/random.js';
import { agreement, FP32_ENGINE, INT8_ENGINE, predictAll } from '../evaluate/evaluate.js';
import { sha256OfBytes, writeFileAtomic, writeJsonAtomic } from '../model-folder/files.js';
import { writeExternalDataForm } from '../model-folder/external-data.js';
import { buildManifest } from '../model-folder/manifest.js';
import { networkSummary, type PrunedFrom } from '../model-folder/network.js';
import { classificationMetrics, type ClassificationMetrics } from '../evaluate/metrics.js';
import type { CalibrationMethod } from '../onnx/calibrate.js';
import { exportToOnnx } from '../onnx/export.js';
import { encodeModel } from '../onnx/proto.js';
import { quantizeStatic } from '../onnx/quantize.js';
import { buildResNet } from '../network/resnet.js';
import { isFoldedBatchNorm, unfoldBatchNorm } from '../network/batch-norm-statistics.js';
import { architectureOf, describe, type ResNetDepth } from '../network/description.js';
import { writeReport, type WorstMistake } from '../report/html.js';
import { cutAt, defaultCamLayer, gradCam, toNhwc } from '../explain/gradcam.js';
import { overlayPng } from '../explain/overlay.js';
import { createAdam, selectDevice, type DeviceChoice } from '../tf/backend.js';
import { TRAIN_AUGMENTATION, type Augmentation } from '../train/augment.js';
import { makeBatch, type Recolour } from '../train/batches.js';
import { channelPermuter } from '../train/channel-permutation.js';
import { contrastReducer } from '../train/contrast.js';
import { afterEpoch, initialCallbackState, type CallbackOptions, type CallbackState } from '../train/callbacks.js';
import { disposeCheckpoint, readCheckpoint, restoreWeights, saveCheckpoint } from '../train/checkpoint.js';
import { computeFeatures, readFeatureBatch, type FeatureCache } from '../train/features.js';
import { freezeLayers, splitAtFrozenBoundary, unfreezeForFineTuning } from '../train/freeze.js';
import type { Distillation } from '../train/distill.js';
import { evaluateSource, trainEpoch, type BatchSource } from '../train/loop.js';
import { refreshBatchNorm, type BatchNormRefresh } from '../train/refresh-batch-norm.js';
import { stratifiedSplit, testSeedOf, threeWaySplit } from '../train/split.js';
import { SourceError } from '../sources/graph.js';
import { applyLayerWeights } from '../sources/layer-weights.js';
import { checkAgainstSource, type ReferenceCheck } from '../sources/reference-check.js';
import { startNetwork, type StartNetwork } from '../sources/start-network.js';

export interface TrainOptions {
  data: string;
  out: string;
  valSplit: number;
  /** Fraction of every class held out as a test split, never seen by training or by any choice (0: none; a `test/` folder beside `train/` wins). */
  testSplit: number;
  inputSize: number;
  weights: string;
  freeze: number;
  epochs: number;
  lr: number;
  fineTuneEpochs: number;
  fineTuneLr: number;
  batch: number;
  accumulate: number;
  l2: number;
  dropout: number;
  seed: number;
  /** ResNet depth: 50 (default), 101 or 152 (the same blocks; Keras' stage tables). */
  depth?: ResNetDepth;
  callbacks: CallbackOptions;
  augment: boolean;
  /** What `augment` does to training images (default TRAIN_AUGMENTATION: the reference recipe's affine draw). */
  augmentation?: Augmentation;
  featureViews: number;
  resume: boolean;
  device: DeviceChoice;
  calibration: CalibrationMethod;
  calibrationImages: number;
  name: string;
  version: string;
  log: (line: string) => void;
  /** The network and weights to start from, given directly (`prune` hands over the pruned network): `weights` is then only named. */
  start?: StartNetwork;
  /** Data already loaded with `loadTrainingData` (the same splits; `prune` scores the unpruned model on them first). */
  loaded?: TrainingData;
  /** Recorded in the manifest's `network` field when the network was pruned. */
  prunedFrom?: PrunedFrom;
  /** Stage 2 learns this teacher's answers besides the labels (`prune --distill`: the unpruned network). */
  distillation?: Distillation;
  /** Re-measure the BN statistics on training images after each epoch (and at the start): `prune` sets it. */
  batchNormRefresh?: BatchNormRefresh;
}

export interface EpochRecord {
  stage: 1 | 2;
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  learning_rate: number;
  seconds: number;
}

/** What a checkpoint carries besides weights: enough to continue exactly where the last epoch ended. */
interface RunState {
  fingerprint: string;
  stage: 1 | 2;
  /** Epochs completed in `stage`. */
  epochsDone: number;
  /** The stage stopped early (a resume with more epochs does not reopen it). */
  stageFinished: boolean;
  callbacks: CallbackState;
  history: EpochRecord[];
}

/** Thrown for bad data or options: the CLI prints the message, not a stack. */
export class TrainInputError extends Error {}

export interface TrainingData {
  labels: string[];
  train: LoadedSet;
  /** Scored every epoch: chooses the best epoch, early stopping and learning-rate cuts. */
  val: LoadedSet;
  /** Scored once, at the end, by nothing that makes a choice: the model's accuracy. */
  test: LoadedSet | null;
}

/** The class folders under `dir`, in `preferred` order when they are the same classes (a start model's head then fits). */
export async function classFolders(dir: string, preferred: string[] | undefined) {
  const found = await readFolderDataset(dir);
  const same = preferred && preferred.length === found.labels.length && [...preferred].sort().join('\n') === found.labels.join('\n');
  return same ? readFolderDataset(dir, preferred) : found;
}

/** The splits of `o.data` (train/val/test folders, else seeded stratified splits), decoded as the Worker decodes. */
export async function loadTrainingData(o: Pick<TrainOptions, 'data' | 'valSplit' | 'testSplit' | 'seed' | 'log'>, spec: PreprocessSpec, labelOrder?: string[]): Promise<TrainingData> {
  let trainFiles: LabelledFile[];
  let valFiles: LabelledFile[];
  let testFiles: LabelledFile[] = [];
  let labels: string[];
  if (await hasSplitFolders(o.data)) {
    const train = await classFolders(join(o.data, 'train'), labelOrder);
    const val = await readFolderDataset(join(o.data, 'val'), train.labels).catch(() => null);
    const test = await readFolderDataset(join(o.data, 'test'), train.labels).catch(() => null);
    labels = train.labels;
    if (train.emptyClasses.length) throw new TrainInputError(`empty classes in ${o.data}/train: ${train.emptyClasses.join(', ')}`);
    trainFiles = train.files;
    valFiles = val?.files ?? [];
    testFiles = test?.files ?? [];
    // A test/ folder wins; otherwise --test-split carves one from train/ first (its own seed), as threeWaySplit does.
    if (testFiles.length === 0 && o.testSplit > 0) ({ train: trainFiles, val: testFiles } = stratifiedSplit(trainFiles, o.testSplit, testSeedOf(o.seed)));
    if (valFiles.length === 0) ({ train: trainFiles, val: valFiles } = stratifiedSplit(trainFiles, o.valSplit, o.seed));
  } else {
    const all = await classFolders(o.data, labelOrder);
    labels = all.labels;
    if (all.emptyClasses.length) throw new TrainInputError(`empty classes in ${o.data}: ${all.emptyClasses.join(', ')} (every class folder needs at least one JPEG or PNG)`);
    ({ train: trainFiles, val: valFiles, test: testFiles } = threeWaySplit(all.files, o.testSplit, o.valSplit, o.seed));
  }
  if (labels.length < 2) throw new TrainInputError(`${o.data} has ${labels.length} class folder(s); a classifier needs at least 2`);
  const train = await loadImageTensors(trainFiles, spec);
  const val = await loadImageTensors(valFiles, spec);
  const test = testFiles.length > 0 ? await loadImageTensors(testFiles, spec) : null;
  const skippedFiles = [...train.skipped, ...val.skipped, ...(test?.skipped ?? [])];
  if (skippedFiles.length > 0) o.log(`data: skipped ${skippedFiles.length} unreadable file(s), e.g. ${skippedFiles[0]!.path}: ${skippedFiles[0]!.reason}`);
  if (train.tensors.length === 0 || val.tensors.length === 0) throw new TrainInputError(`no decodable images left for ${train.tensors.length === 0 ? 'training' : 'validation'}`);
  if (test && test.tensors.length === 0) throw new TrainInputError('no decodable images left for the test split');
  o.log(`data: ${labels.length} classes (${labels.join(', ')}), ${train.tensors.length} training, ${val.tensors.length} validation${test ? ` and ${test.tensors.length} test` : ''} images${test ? '' : ' (no test split: give DIR/test or --test-split to report accuracy on images no choice saw)'}`);
  return { labels, train, val, test };
}

/** Image batches (stage 2, or stage 1 with nothing frozen): augmented when training. */
function imageSource(set: LoadedSet, spec: PreprocessSpec, classes: number, augmentation: Augmentation | null, random: ReturnType<typeof seededRandom>): BatchSource {
  const tensorSet = { tensors: set.tensors, labels: set.labels, width: spec.width, height: spec.height, classes };
  // Each recolouring has its own random stream: turning one on leaves the affine draws as they were.
  const recolourings = augmentation
    ? [
        augmentation.channelPermutation !== null ? channelPermuter(augmentation.channelPermutation, seededRandom(random.int(0, 2 ** 31))) : null,
        augmentation.contrastReduction !== null ? contrastReducer(augmentation.contrastReduction.probability, augmentation.contrastReduction.lowest, seededRandom(random.int(0, 2 ** 31))) : null,
      ].filter((r) => r !== null)
    : [];
  const recolour: Recolour | undefined = recolourings.length === 0 ? undefined : (xs, offset, pixels) => recolourings.forEach((r) => r(xs, offset, pixels));
  return {
    count: set.tensors.length,
    batch: (indices, training) => {
      const { x, y } = makeBatch(tensorSet, indices, training ? (augmentation?.affine ?? null) : null, random, training ? recolour : undefined);
      return { xs: [x], y };
    },
  };
}

/** Cached-feature batches (stage 1): epoch e reads augmented view e mod views. */
function featureSource(caches: FeatureCache[], labels: number[], classes: number, view: () => number): BatchSource {
  return {
    count: labels.length,
    batch: (indices) => {
      const cache = caches[view() % caches.length]!;
      const parts = readFeatureBatch(cache, indices);
      const xs = parts.map((p, k) => tf.tensor4d(p, [indices.length, ...cache.shapes[k]!.shape]));
      const y = tf.oneHot(tf.tensor1d(indices.map((i) => labels[i]!), 'int32'), classes).toFloat() as tf.Tensor2D;
      return { xs, y };
    },
  };
}

const fingerprintOf = (o: TrainOptions, data: TrainingData) =>
  sha256OfBytes(
    new TextEncoder().encode(
      JSON.stringify({
        files: data.train.paths,
        val: data.val.paths,
        test: data.test?.paths ?? [],
        labels: data.labels,
        o: [o.inputSize, o.weights, o.freeze, o.batch, o.accumulate, o.l2, o.dropout, o.seed, o.augment, o.featureViews],
      }),
    ),
  );

export interface TrainResult {
  metrics: Record<string, unknown>;
  history: EpochRecord[];
  outDir: string;
}

/** The data's class names (sorted folder names, of train/ when the data is split): what the classifier is sized for. */
export async function dataClasses(dir: string): Promise<string[]> {
  const found = await readFolderDataset((await hasSplitFolders(dir)) ? join(dir, 'train') : dir).catch((e: Error) => {
    throw new TrainInputError(e.message);
  });
  return found.labels;
}

/** The network to train and the weights to start from (sources/start-network.ts); bad files are the user's to fix. */
async function startFrom(o: TrainOptions, dataLabels: string[]): Promise<StartNetwork> {
  try {
    return await startNetwork(o.weights, { inputSize: o.inputSize, classes: dataLabels.length, dataLabels, dropout: o.dropout, depth: o.depth, log: o.log });
  } catch (e) {
    if (e instanceof SourceError) throw new TrainInputError(e.message);
    throw e;
  }
}

/** A source's BN folded into its convolutions: measured back on training images so that fine-tuning normalises (batch-norm-statistics.ts). */
function unfoldStartBatchNorm(model: tf.LayersModel, start: StartNetwork, data: TrainingData, spec: PreprocessSpec, log: (line: string) => void) {
  if (!start.weights) return;
  const folded = model.layers
    .filter((l) => l.getClassName() === 'BatchNormalization' && (l.input as tf.SymbolicTensor).shape.length === 4)
    .filter((l) => {
      const w = start.weights!.get(l.name);
      return w !== undefined && isFoldedBatchNorm(w.map((a) => a.data), start.description.bnEpsilon);
    })
    .map((l) => l.name);
  if (folded.length === 0) return;
  const step = Math.max(1, Math.floor(data.train.tensors.length / 32));
  const images = data.train.tensors.filter((_, i) => i % step === 0).slice(0, 32);
  unfoldBatchNorm(model, folded, images, [spec.height, spec.width]);
  log(`weights: ${folded.length} BatchNormalization layers were folded into their convolutions by the export; their statistics re-measured on ${images.length} training images (the same outputs at inference, a normalising BN for training)`);
}

/** Loads the start weights into `model`; a trunk layer without weights is an error (only a new head may be fresh). */
function loadStartWeights(model: tf.LayersModel, start: StartNetwork, log: (line: string) => void) {
  if (!start.weights) return;
  const report = applyLayerWeights(model, start.weights);
  const fresh = new Set(start.keptHead ? [] : ['predictions', ...(start.source ? [] : ['fc1'])]);
  const missing = report.missing.filter((n) => !fresh.has(n));
  if (missing.length > 0) throw new TrainInputError(`--weights: no weights for ${missing.length} layers (${missing.slice(0, 3).join(', ')}…)`);
  log(`weights: ${report.loaded.length} layers from ${start.summary}${report.missing.length ? `; new: ${report.missing.join(', ')}` : ''}`);
}

export async function trainCommand(o: TrainOptions): Promise<TrainResult> {
  const { log } = o;
  const start = o.start ?? (await startFrom(o, await dataClasses(o.data)));
  const spec = start.spec;
  log(`network: ${describe(start.description)}`);
  const data = o.loaded ?? (await loadTrainingData(o, spec, start.labels));
  const classes = data.labels.length;
  const backend = await selectDevice(o.device, log);
  // Stage 1's frozen features: on the GPU too when training runs there (onnxruntime-node's WebGPU provider).
  const provider = backend === 'webgpu' ? 'webgpu' : 'cpu';
  log(`device: tfjs ${backend} backend`);
  await mkdir(o.out, { recursive: true });
  const checkpoints = join(o.out, 'checkpoints');
  const lastPath = join(checkpoints, 'last.ckpt');
  const bestPath = join(checkpoints, 'best.ckpt');
  const fingerprint = fingerprintOf(o, data);

  const model = buildResNet(start.description, { seed: o.seed });
  let startCheck: ReferenceCheck | null = null;
  let state: RunState = { fingerprint, stage: 1, epochsDone: 0, stageFinished: false, callbacks: initialCallbackState(o.lr), history: [] };
  let resumedOptimizer: Array<{ name: string; tensor: tf.Tensor }> | null = null;
  const last = o.resume ? await readCheckpoint<RunState>(lastPath) : null;
  if (o.resume && !last) log(`resume: no checkpoint in ${checkpoints}, starting fresh`);
  if (last) {
    if (last.state.fingerprint !== fingerprint) throw new TrainInputError(`--resume: ${lastPath} was written for other data or options; remove it or run without --resume`);
    restoreWeights(model, last.weights);
    state = last.state;
    resumedOptimizer = last.optimizer;
    tf.dispose([...last.weights.values()]);
    log(`resume: stage ${state.stage}, ${state.epochsDone} epoch(s) done, best val loss ${state.callbacks.bestValLoss.toFixed(4)}`);
  } else {
    await rm(checkpoints, { recursive: true, force: true });
    loadStartWeights(model, start, log);
    unfoldStartBatchNorm(model, start, data, spec, log);
    if (o.batchNormRefresh?.atStart) {
      const read = refreshBatchNorm(model, imageSource(data.train, spec, classes, null, seededRandom(o.seed)), o.batchNormRefresh.images, o.batch, o.seed);
      log(`weights: BatchNorm statistics re-measured on ${read} training images for the network as it now is`);
    }
    if (start.source && start.keptHead) {
      // Before any step, the network built from the source computes what the source computes.
      await prefetchWeights(model);
      startCheck = await checkAgainstSource(start.source, encodeModel(exportToOnnx(model)), data.val.tensors.slice(0, 8), spec, { softmaxSource: start.source.outputKind === 'logits' });
      log('not_run' in startCheck ? `weights: check against the source not run (${startCheck.not_run})` : `weights: before any step, the network's fp32 export is within ${startCheck.max_abs_diff.toExponential(2)} of ${startCheck.against} (${startCheck.images} validation images)`);
    }
  }

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('\ninterrupted: finishing this step; the last completed epoch is checkpointed (continue with --resume)');
  };
  process.on('SIGINT', onSigint);
  const random = (stage: number, epoch: number) => seededRandom(o.seed * 1000 + stage * 100 + epoch);

  const runStage = async (stage: 1 | 2, trainModel: tf.LayersModel, epochs: number, source: BatchSource, val: BatchSource, onEpoch: (e: number) => void, distillation?: Distillation) => {
    if (state.stage > stage || (state.stage === stage && (state.stageFinished || state.epochsDone >= epochs))) return;
    if (state.stage < stage) state = { ...state, stage, epochsDone: 0, stageFinished: false, callbacks: initialCallbackState(stage === 1 ? o.lr : o.fineTuneLr, state.callbacks.bestValLoss, state.callbacks.bestAt) };
    const optimizer = createAdam(state.callbacks.learningRate);
    if (resumedOptimizer) {
      await optimizer.setWeights(resumedOptimizer);
      resumedOptimizer = null;
    }
    for (let epoch = state.epochsDone; epoch < epochs; epoch++) {
      onEpoch(epoch);
      const title = `stage ${stage} epoch ${epoch + 1}/${epochs}`;
      const fit = await trainEpoch({ model: trainModel, optimizer, source, batchSize: o.batch, accumulate: o.accumulate, learningRate: state.callbacks.learningRate, l2: o.l2, random: random(stage, epoch), title, interrupted: () => interrupted, distillation });
      if (!fit.completed) break;
      if (o.batchNormRefresh) refreshBatchNorm(trainModel, source, o.batchNormRefresh.images, o.batch, o.seed);
      const v = await evaluateSource(trainModel, val, o.batch);
      const record: EpochRecord = { stage, epoch: epoch + 1, loss: fit.loss, accuracy: fit.accuracy, val_loss: v.loss, val_accuracy: v.accuracy, learning_rate: state.callbacks.learningRate, seconds: fit.seconds };
      const decision = afterEpoch(state.callbacks, v.loss, { stage, epoch: epoch + 1 }, o.callbacks);
      state = { ...state, epochsDone: epoch + 1, callbacks: decision.state, history: [...state.history, record] };
      log(`${title}: loss ${fit.loss.toFixed(4)} acc ${fit.accuracy.toFixed(3)} · val_loss ${v.loss.toFixed(4)} val_acc ${v.accuracy.toFixed(3)} · lr ${record.learning_rate.toExponential(1)} · ${fit.seconds.toFixed(1)} s${decision.saveBest ? ' · best' : ''}${decision.reducedLearningRate ? ` · lr → ${decision.state.learningRate.toExponential(1)}` : ''}`);
      if (decision.saveBest) await saveCheckpoint(bestPath, model, null, state);
      if (decision.stop) state = { ...state, stageFinished: true };
      await saveCheckpoint(lastPath, model, optimizer, state);
      if (decision.stop) {
        log(`early stopping: no val_loss improvement in ${o.callbacks.patience} epochs`);
        break;
      }
    }
    optimizer.dispose();
  };

  const valImages = imageSource(data.val, spec, classes, null, random(0, 0));
  // Stage 1: frozen prefix computed once (natively), trainable rest on its cached features.
  const stageOneLeft = state.stage === 1 && !state.stageFinished && state.epochsDone < o.epochs;
  if (o.epochs > 0 && stageOneLeft) {
    freezeLayers(model, o.freeze);
    if (o.freeze > 0) {
      const split = splitAtFrozenBoundary(model, o.freeze);
      await prefetchWeights(split.prefix);
      const featureDir = join(o.out, 'cache', fingerprint.slice(0, 16));
      const views = Math.max(1, o.featureViews);
      log(`stage 1: caching the frozen layers' features (${split.frontier.map((t) => t.sourceLayer.name).join(', ')}) for ${views} view(s) of ${data.train.tensors.length} images with onnxruntime-node (${provider})`);
      const started = Date.now();
      const caches: FeatureCache[] = [];
      for (let v = 0; v < views; v++) {
        const augment = o.augment && v > 0 ? (o.augmentation ?? TRAIN_AUGMENTATION).affine : null;
        caches.push(await computeFeatures({ prefix: split.prefix, frontier: split.frontier, tensors: data.train.tensors, width: spec.width, height: spec.height, augment, random: random(9, v), file: join(featureDir, `train-view${v}.f32`), provider }));
      }
      const valCache = await computeFeatures({ prefix: split.prefix, frontier: split.frontier, tensors: data.val.tensors, width: spec.width, height: spec.height, augment: null, random: random(9, 99), file: join(featureDir, 'val.f32'), provider });
      log(`stage 1: features ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      let currentEpoch = 0;
      await runStage(1, split.suffix, o.epochs, featureSource(caches, data.train.labels, classes, () => currentEpoch), featureSource([valCache], data.val.labels, classes, () => 0), (e) => (currentEpoch = e));
    } else {
      await runStage(1, model, o.epochs, imageSource(data.train, spec, classes, o.augment ? (o.augmentation ?? TRAIN_AUGMENTATION) : null, random(1, 0)), valImages, () => {});
    }
  }
  // Stage 2: everything trainable (frozen BN stays in inference mode), lower learning rate, augmented images.
  if (o.fineTuneEpochs > 0 && !interrupted) {
    unfreezeForFineTuning(model, o.freeze);
    await runStage(2, model, o.fineTuneEpochs, imageSource(data.train, spec, classes, o.augment ? (o.augmentation ?? TRAIN_AUGMENTATION) : null, random(2, 0)), valImages, () => {}, o.distillation);
  }
  process.off('SIGINT', onSigint);
  if (interrupted) throw new TrainInputError(`interrupted; continue with --resume (checkpoint: ${lastPath})`);

  const best = await readCheckpoint<RunState>(bestPath);
  if (best) {
    restoreWeights(model, best.weights);
    disposeCheckpoint(best);
    log(`restored the best weights (stage ${state.callbacks.bestAt?.stage}, epoch ${state.callbacks.bestAt?.epoch}, val_loss ${state.callbacks.bestValLoss.toFixed(4)})`);
  }
  return finish(o, model, spec, data, state.history, state.callbacks, start, startCheck);
}

/** Brings every weight to the CPU asynchronously first (a GPU backend cannot read synchronously, and the export does). */
const prefetchWeights = (model: tf.LayersModel) => Promise.all(model.weights.map((w) => w.read().data()));

/** One split's figures in metrics.json: int8 through the Worker's engine, fp32 natively, and the two compared. */
interface SplitSummary {
  count: number;
  accuracy: number;
  accuracy_fp32: number;
  agreement_fp32_int8: number;
  macro_f1: number;
  per_class: Record<string, ClassificationMetrics['per_class'][number]>;
  confusion_matrix: number[][];
  roc_curves: Record<string, ClassificationMetrics['roc_curves'][number]>;
  roc_auc: Record<string, number>;
}

async function scoreSplit(fp32Bytes: Uint8Array, int8Bytes: Uint8Array, set: LoadedSet, spec: PreprocessSpec, labels: string[]) {
  // int8 through the Worker's engine (the edge's numbers, the same on any host); fp32 natively (fast, float).
  const p32 = await predictAll(fp32Bytes, set.tensors, spec, { engine: 'native' });
  const int8 = await predictAll(int8Bytes, set.tensors, spec);
  const metrics = classificationMetrics(set.labels, int8.predicted, int8.scores, labels.length);
  const summary: SplitSummary = {
    count: set.tensors.length,
    accuracy: metrics.top1,
    accuracy_fp32: classificationMetrics(set.labels, p32.predicted, p32.scores, labels.length).top1,
    agreement_fp32_int8: agreement(int8.predicted, p32.predicted),
    macro_f1: metrics.macro_f1,
    per_class: Object.fromEntries(labels.map((l, i) => [l, metrics.per_class[i]!])),
    confusion_matrix: metrics.confusion_matrix,
    roc_curves: Object.fromEntries(labels.map((l, i) => [l, metrics.roc_curves[i]!])),
    roc_auc: Object.fromEntries(labels.map((l, i) => [l, metrics.per_class[i]!.roc_auc])),
  };
  return { summary, metrics, int8 };
}

/** Export, quantize, evaluate, and write every output file. */
async function finish(o: TrainOptions, model: tf.LayersModel, spec: PreprocessSpec, data: TrainingData, history: EpochRecord[], callbacks: CallbackState, start: StartNetwork, startCheck: ReferenceCheck | null): Promise<TrainResult> {
  const { log } = o;
  await prefetchWeights(model);
  const fp32 = exportToOnnx(model);
  const fp32Bytes = encodeModel(fp32);
  await writeFileAtomic(join(o.out, 'model-fp32.onnx'), fp32Bytes);
  const step = Math.max(1, Math.floor(data.train.tensors.length / o.calibrationImages));
  const calibration = data.train.tensors.filter((_, i) => i % step === 0).slice(0, o.calibrationImages);
  log(`quantize: ${o.calibration} calibration on ${calibration.length} training images`);
  const { model: int8, summary } = await quantizeStatic(fp32, calibration, [1, 3, spec.height, spec.width], { method: o.calibration });
  const int8Bytes = encodeModel(int8);
  await writeFileAtomic(join(o.out, 'model-int8.onnx'), int8Bytes);

  const validation = await scoreSplit(fp32Bytes, int8Bytes, data.val, spec, data.labels);
  const test = data.test ? await scoreSplit(fp32Bytes, int8Bytes, data.test, spec, data.labels) : null;
  const metrics = {
    labels: data.labels,
    int8_engine: INT8_ENGINE,
    fp32_engine: FP32_ENGINE,
    /** Chose the best epoch, early stopping and learning-rate cuts: optimistic. */
    validation: validation.summary,
    /** Scored once at the end, by nothing that chose anything: the model's accuracy (null without a test split). */
    test: test?.summary ?? null,
    best: callbacks.bestAt,
    best_val_loss: callbacks.bestValLoss,
    network: describe(start.description),
    started_from: start.summary,
    start_check: startCheck,
    skipped: [...data.train.skipped, ...data.val.skipped, ...(data.test?.skipped ?? [])],
    history,
  };
  await writeJsonAtomic(join(o.out, 'metrics.json'), metrics);

  const short = (prefix: string, m: SplitSummary) => ({ [`${prefix}_count`]: m.count, [`${prefix}_top1_int8`]: m.accuracy, [`${prefix}_top1_fp32`]: m.accuracy_fp32, [`${prefix}_agreement`]: m.agreement_fp32_int8, [`${prefix}_macro_f1`]: m.macro_f1 });
  const manifest = buildManifest({
    name: o.name,
    version: o.version,
    file: 'model-int8.onnx',
    bytes: int8Bytes,
    sha256: sha256OfBytes(int8Bytes),
    preprocess: spec,
    labels: data.labels,
    quantization: summary,
    architecture: architectureOf(start.description),
    network: networkSummary(start.description, o.prunedFrom),
    metrics: { ...short('val', validation.summary), ...(test ? short('test', test.summary) : {}) },
    reference: { file: 'model-fp32.onnx', sha256: sha256OfBytes(fp32Bytes), bytes: fp32Bytes.byteLength },
    externalData: await writeExternalDataForm(o.out, 'model-int8.onnx', int8Bytes, { tensors: data.val.tensors.slice(0, 64), dims: [1, 3, spec.height, spec.width] }, log),
  });
  await writeJsonAtomic(join(o.out, 'manifest.json'), manifest);

  // The report shows the split the model is judged on: test when there is one.
  const [shown, shownSet, splitName] = test ? ([test, data.test!, 'test'] as const) : ([validation, data.val, 'validation'] as const);
  const worst: Array<WorstMistake & { tensor: Float32Array; index: number }> = shownSet.labels
    .map((truth, i) => ({ i, truth, predicted: shown.int8.predicted[i]!, confidence: shown.int8.scores[i]![shown.int8.predicted[i]!]! }))
    .filter((m) => m.predicted !== m.truth)
    .sort((a, b) => b.confidence - a.confidence)
    .slice(0, 12)
    .map((m) => ({ path: shownSet.paths[m.i]!, truth: data.labels[m.truth]!, predicted: data.labels[m.predicted]!, confidence: m.confidence, tensor: shownSet.tensors[m.i]!, index: m.predicted }));
  // Grad-CAM of each for the class it was mistaken for, from the float network just trained.
  const cam = cutAt(model, defaultCamLayer(model));
  for (const w of worst) {
    const input = toNhwc(w.tensor, spec.height, spec.width);
    w.heatmap = await overlayPng(new Uint8Array(await readFile(w.path)), gradCam(cam, input, w.index), spec, 96).catch(() => undefined);
    input.dispose();
  }
  await writeReport(join(o.out, 'report.html'), { title: `${o.name} ${o.version}`, split: splitName, labels: data.labels, metrics: shown.metrics, accuracyFp32: shown.summary.accuracy_fp32, agreement: shown.summary.agreement_fp32_int8, history, worst, readImage: (p) => readFile(p) });
  const line = (name: string, m: SplitSummary) => `${name} top-1 int8 ${m.accuracy.toFixed(3)} (fp32 ${m.accuracy_fp32.toFixed(3)}, agreement ${m.agreement_fp32_int8.toFixed(3)}, ${m.count} images)`;
  log(`done: ${test ? `${line('test', test.summary)}; ` : ''}${line('validation', validation.summary)}; outputs in ${o.out}/`);
  return { metrics, history, outDir: o.out };
}
