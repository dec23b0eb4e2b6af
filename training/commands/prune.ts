/**
 * @module `pipeline prune`: fewer multiply-accumulates per image, the recipe's second lever after int8. The
 * model (a folder `train` or `import` wrote, or any source `import` reads) → the channel scores of every
 * bottleneck's inner convolutions (prune/rank.ts) → those cut to `keep` of their width in multiples of 8
 * (prune/slice.ts) → fine-tuned with `train`'s loop and callbacks, every layer trainable → fp32, int8, manifest
 * (widths, GMAC, what it was pruned from) and metrics with the test split scored before and after. Written to a
 * staging folder and moved into place whole: an existing `--out` survives any failure.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseManifest, type Manifest } from '../../src/core/manifest.js';
import type { LoadedSet } from '../data/load.js';
import { seededRandom } from '../data/random.js';
import { predictAll } from '../evaluate/evaluate.js';
import { readJson, replaceFolder, writeJsonAtomic } from '../model-folder/files.js';
import type { PrunedFrom } from '../model-folder/network.js';
import { describe, type ResNetDescription } from '../network/description.js';
import { gmacOf } from '../network/macs.js';
import { buildResNet } from '../network/resnet.js';
import { exportToOnnx } from '../onnx/export.js';
import { encodeModel } from '../onnx/proto.js';
import { bnGammaScores, l1Scores, PruneInputError, scoredConvolutions, taylorScores, type ChannelScores, type LabelledBatch, type PruneCriterion } from '../prune/rank.js';
import { pruneNetwork } from '../prune/slice.js';
import { SourceError } from '../sources/graph.js';
import { applyLayerWeights } from '../sources/layer-weights.js';
import { startNetwork, type StartNetwork } from '../sources/start-network.js';
import { makeBatch } from '../train/batches.js';
import { selectDevice } from '../tf/backend.js';
import { dataClasses, loadTrainingData, TrainInputError, trainCommand, type TrainingData, type TrainOptions } from './train.js';
import { FULL_RECIPE, recipeAugmentation } from '../default-model/recipe.js';
import { TRAIN_AUGMENTATION } from '../train/augment.js';

export { PruneInputError } from '../prune/rank.js';

/** What `train` takes, less what pruning decides: one stage, every layer trainable, at `lr`. */
export interface PruneOptions extends Omit<TrainOptions, 'weights' | 'start' | 'loaded' | 'prunedFrom' | 'freeze' | 'epochs' | 'lr' | 'fineTuneEpochs' | 'fineTuneLr' | 'featureViews' | 'resume'> {
  /** A model folder (manifest.json and the fp32 reference it names), or a source file or folder `import` reads. */
  model: string;
  /** Fraction of each block's inner channels kept (rounded to multiples of 8). */
  keep: number;
  /** Fraction of each stage's residual stream kept (1: the stream untouched, the published recipe). */
  keepStream?: number;
  by: PruneCriterion;
  /** Fine-tuning epochs (0: prune only, for structure and speed measurements). */
  epochs: number;
  lr: number;
  /** Training images the Taylor criterion reads (in batches of 8). */
  taylorImages: number;
  /** Fine-tune towards the unpruned network's softened answers too (its share of the loss, and T). */
  distill?: { weight: number; temperature: number };
}

interface ModelSource {
  /** The file or folder the network is read from. */
  path: string;
  /** The model folder's manifest, when `--model` is one. */
  manifest: Manifest | null;
  folder: string | null;
}

/** `--model`: a folder with a manifest names its fp32 reference; anything else is a source file or folder. */
async function modelSource(model: string): Promise<ModelSource> {
  const info = await stat(model).catch(() => null);
  if (!info) throw new PruneInputError(`--model ${model}: no such file or folder`);
  const json = info.isDirectory() ? await readJson<unknown>(join(model, 'manifest.json')) : null;
  if (json === null) return { path: model, manifest: null, folder: null };
  let manifest: Manifest;
  try {
    manifest = parseManifest(json);
  } catch (e) {
    throw new PruneInputError(`${join(model, 'manifest.json')}: ${(e as Error).message}`);
  }
  if (!manifest.reference) throw new PruneInputError(`${join(model, 'manifest.json')}: no fp32 reference (field reference) to prune; prune the file it was trained or imported from`);
  return { path: join(model, manifest.reference.file), manifest, folder: model };
}

/** Up to `count` training images in batches of 8, a seeded draw spread over every class. */
function* taylorBatches(data: TrainingData, size: number, count: number, seed: number): Generator<LabelledBatch> {
  const random = seededRandom(seed);
  const order = [...data.train.tensors.keys()];
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(0, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const picked = order.slice(0, count);
  const set = { tensors: data.train.tensors, labels: data.train.labels, width: size, height: size, classes: data.labels.length };
  for (let b = 0; b < picked.length; b += 8) {
    const batch = makeBatch(set, picked.slice(b, b + 8), null, random);
    try {
      yield batch;
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
  }
}

/** The unpruned network in tfjs, its weights loaded (Taylor's gradients; the "before" figures of a source file). */
function builtNetwork(start: StartNetwork): tf.LayersModel {
  const model = buildResNet(start.description);
  applyLayerWeights(model, start.weights!);
  return model;
}

function channelScores(o: PruneOptions, start: StartNetwork, data: TrainingData): ChannelScores {
  const d = start.description;
  const convs = scoredConvolutions(d, o.keepStream);
  if (o.by === 'l1') return l1Scores(d, start.weights!, convs);
  if (o.by === 'bn-gamma') return bnGammaScores(d, start.weights!, convs);
  if (!start.keptHead) throw new PruneInputError(`--by taylor: the model's classifier has other classes than ${o.data}; the loss it differentiates needs them (use --by l1)`);
  const model = builtNetwork(start);
  try {
    return taylorScores(d, model, taylorBatches(data, start.spec.width, o.taylorImages, o.seed), convs);
  } finally {
    model.dispose();
  }
}

export interface SplitScore {
  split: 'test' | 'validation';
  count: number;
  top1_fp32: number;
  /** The model folder's own int8 model through the Worker's engine (null for a source file: never quantized). */
  top1_int8: number | null;
}

const top1 = (predicted: number[], truth: number[]) => predicted.filter((p, i) => p === truth[i]).length / truth.length;

/** The unpruned model on the split the pruned one is judged on (test when there is one). */
async function scoreUnpruned(source: ModelSource, start: StartNetwork, data: TrainingData): Promise<SplitScore | null> {
  if (!start.keptHead) return null; // another classifier: the unpruned model does not answer these classes
  const [split, set]: ['test' | 'validation', LoadedSet] = data.test ? ['test', data.test] : ['validation', data.val];
  const fp32 = source.manifest ? new Uint8Array(await readFile(source.path)) : await (async () => {
    const model = builtNetwork(start);
    try {
      await Promise.all(model.weights.map((w) => w.read().data()));
      return encodeModel(exportToOnnx(model));
    } finally {
      model.dispose();
    }
  })();
  const outputKind = source.manifest?.output.kind ?? 'probabilities';
  const p32 = await predictAll(fp32, set.tensors, start.spec, { engine: 'native', outputKind });
  const p8 = source.manifest && source.folder ? await predictAll(join(source.folder, source.manifest.file), set.tensors, start.spec, { outputKind }) : null;
  return { split, count: set.tensors.length, top1_fp32: top1(p32.predicted, set.labels), top1_int8: p8 ? top1(p8.predicted, set.labels) : null };
}

/** Training images the BN statistics are re-measured on (a few hundred: the per-channel means settle well before). */
const BATCH_NORM_IMAGES = 256;

const streamsLine = (d: ResNetDescription) => d.stages.map((s) => s.width).join(' ');
const widthsLine = (d: ResNetDescription) => d.stages.map((s) => s.blocks.map((b) => `${b.reduce}/${b.spatial}`).join(' ')).join(' | ');

export async function pruneCommand(o: PruneOptions) {
  const { log } = o;
  if (!(o.keep > 0 && o.keep <= 1)) throw new PruneInputError(`--keep: expected a fraction in (0, 1], got ${o.keep}`);
  const source = await modelSource(o.model);
  const dataLabels = await dataClasses(o.data);
  const inputSize = source.manifest?.preprocess.width ?? o.inputSize;
  let start: StartNetwork;
  try {
    start = await startNetwork(source.path, { inputSize, classes: dataLabels.length, dataLabels, dropout: 0, log });
  } catch (e) {
    if (e instanceof SourceError) throw new PruneInputError(e.message);
    throw e;
  }
  if (!start.weights) throw new PruneInputError(`--model ${o.model}: no weights to prune`);
  if (o.epochs === 0 && !start.keptHead) throw new PruneInputError(`--epochs 0 keeps the model's classifier, but ${o.data} has ${dataLabels.length} classes and the model another count: fine-tune (--epochs ≥ 1) to train a new one`);
  if (o.distill && o.epochs > 0 && !start.keptHead) throw new PruneInputError(`--distill: the unpruned model's classifier answers other classes than ${o.data}; it cannot teach these`);
  log(`prune: ${describe(start.description)}, ${gmacOf(start.description)} GMAC at ${start.description.inputSize} px`);
  const data = await loadTrainingData(o, start.spec, start.labels);
  // The backend train will use; Taylor's gradients and a source's "before" export run on it too.
  await selectDevice(o.device, () => {});
  const before = await scoreUnpruned(source, start, data);
  if (before) log(`prune: before, ${before.split} top-1 ${before.top1_int8 === null ? '' : `int8 ${before.top1_int8.toFixed(3)}, `}fp32 ${before.top1_fp32.toFixed(3)} (${before.count} images)`);

  const scores = channelScores(o, start, data);
  const keepStream = o.keepStream ?? 1;
  const pruned = pruneNetwork(start.description, start.weights, scores, o.keep, keepStream);
  const prunedFrom: PrunedFrom = { model: source.manifest ? `${source.manifest.name}@${source.manifest.version}` : basename(source.path), gmac: gmacOf(start.description), keep: o.keep, ...(keepStream < 1 ? { keepStream } : {}), by: o.by };
  const cut = widthsLine(pruned.description) !== widthsLine(start.description) || streamsLine(pruned.description) !== streamsLine(start.description);
  log(`prune: keep ${o.keep}${keepStream < 1 ? `, stream ${keepStream}` : ''} by ${o.by}: ${prunedFrom.gmac} → ${gmacOf(pruned.description)} GMAC; inner widths ${widthsLine(pruned.description)}; streams ${streamsLine(pruned.description)}`);

  // Fine-tuning shows the network the images it was trained on, augmented as then: the default model's own recipe
  // for the default model (its recolourings taught it faint and hue-only shapes), train's for the rest.
  const augmentation = o.augmentation ?? (source.manifest?.name === FULL_RECIPE.name ? recipeAugmentation(FULL_RECIPE) : TRAIN_AUGMENTATION);
  if (o.epochs > 0 && o.augment) log(`prune: fine-tuning augmentation ${JSON.stringify(augmentation)}`);

  // The teacher: the unpruned network as it was read, in inference mode (folded BN layers are identities there).
  const distillation = o.distill && o.epochs > 0 ? { teacher: builtNetwork(start), ...o.distill } : null;
  if (distillation) log(`prune: fine-tuning learns the unpruned network's answers too (α ${distillation.weight}, T ${distillation.temperature})`);

  const staging = join(dirname(o.out), `.${basename(o.out)}.prune-${randomBytes(4).toString('hex')}`);
  try {
    const result = await trainCommand({
      ...o,
      out: staging,
      weights: o.model,
      start: { ...start, description: pruned.description, weights: pruned.weights, source: undefined, summary: `${start.summary}, pruned to keep ${o.keep} by ${o.by}` },
      loaded: data,
      prunedFrom,
      augmentation,
      freeze: 0,
      epochs: 0,
      lr: o.lr,
      fineTuneEpochs: o.epochs,
      fineTuneLr: o.lr,
      featureViews: 1,
      resume: false,
      ...(distillation ? { distillation } : {}),
      // The cut changes what every later layer sees, and fine-tuning what all of them do: the BN statistics are
      // re-measured after the cut and after each epoch, or a short fine-tune serves at chance (refresh-batch-norm.ts).
      batchNormRefresh: { images: BATCH_NORM_IMAGES, atStart: cut },
    });
    const after = (result.metrics.test ?? result.metrics.validation) as { accuracy: number; accuracy_fp32: number; count: number };
    const pruning = {
      from: prunedFrom,
      gmac: gmacOf(pruned.description),
      widths: widthsLine(pruned.description),
      streams: streamsLine(pruned.description),
      fine_tune_epochs: o.epochs,
      augmentation: o.epochs > 0 && o.augment ? augmentation : null,
      distillation: distillation ? o.distill : null,
      before,
      after: { split: result.metrics.test ? 'test' : 'validation', count: after.count, top1_int8: after.accuracy, top1_fp32: after.accuracy_fp32 },
    };
    await writeJsonAtomic(join(staging, 'metrics.json'), { ...result.metrics, pruning });
    await rm(join(staging, 'checkpoints'), { recursive: true, force: true });
    await replaceFolder(staging, o.out);
    log(`prune: ${pruning.after.split} top-1 int8 ${before?.top1_int8?.toFixed(3) ?? '–'} → ${after.accuracy.toFixed(3)} at ${prunedFrom.gmac} → ${pruning.gmac} GMAC; ${o.out}/`);
    return { ...result, outDir: o.out, pruning };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if (e instanceof TrainInputError || e instanceof SourceError) throw new PruneInputError(e.message);
    throw e;
  } finally {
    distillation?.teacher.dispose();
  }
}
