/** @module Step 2 of the default model: a ResNet50 trained from scratch on the drawn shapes, data-parallel on the cores. */
import type { LoadedSet } from '../data/load.js';
import { SHAPE_CLASSES } from '../data/shapes.js';
import { trainableParameterCount } from '../network/resnet.js';
import { decodeModel, type ModelProto } from '../onnx/proto.js';
import { useBackend } from '../tf/backend.js';
import { fitDataParallel } from '../train/parallel-fit.js';
import { taskProgress, type TaskProgress } from '../train/progress.js';
import { modelOptionsOf, type DefaultModelRecipe } from './recipe.js';

/** A build interrupted (Ctrl-C, a crash, a closed laptop) continues from its last checkpoint, this often. */
const CHECKPOINT_EVERY = 100;

export async function trainAndExport(recipe: DefaultModelRecipe, train: LoadedSet, late: LoadedSet, heldOut: LoadedSet, checkpointFile: string, log: (line: string) => void): Promise<{ onnx: ModelProto; curve: Array<[number, number]>; seconds: number }> {
  await useBackend('wasm');
  const modelOptions = modelOptionsOf(recipe);
  const parameters = trainableParameterCount(modelOptions);
  let started = Date.now();
  let curve: Array<[number, number]> = [];
  let window = { loss: 0, accuracy: 0, n: 0 };
  let firstStep = 0;
  let progress: TaskProgress | null = null;
  const bytes = await fitDataParallel({
    workers: recipe.workers,
    model: modelOptions,
    tensors: [...train.tensors, ...late.tensors],
    labelsOf: [...train.labels, ...late.labels],
    parameters,
    width: recipe.inputSize,
    height: recipe.inputSize,
    classes: SHAPE_CLASSES.length,
    batchPerWorker: recipe.batchPerWorker,
    steps: recipe.steps,
    schedule: { base: recipe.learningRate, warmup: recipe.warmup, final: recipe.learningRate * 0.05 },
    augment: recipe.augment,
    channelPermutation: recipe.channelPermutation,
    contrastReduction: recipe.contrastReduction,
    latePool: late.tensors.length > 0 && recipe.lateCrosses ? { first: train.tensors.length, label: SHAPE_CLASSES.indexOf('cross'), fromStep: recipe.lateCrosses.fromStep, probability: recipe.lateCrosses.probability } : null,
    seed: recipe.seed + 7,
    checkpoint: {
      file: checkpointFile,
      every: CHECKPOINT_EVERY,
      extra: () => ({ curve, seconds: (Date.now() - started) / 1000 }),
      onResume: (step, extra) => {
        const saved = extra as { curve: Array<[number, number]>; seconds: number };
        curve = saved.curve;
        started = Date.now() - saved.seconds * 1000;
        firstStep = step + 1;
        log(`train: continuing an interrupted run from its checkpoint after step ${step + 1} (${checkpointFile}; the result is the same as an uninterrupted run's)`);
      },
    },
    evaluation: {
      tensors: heldOut.tensors,
      labels: heldOut.labels,
      every: 100,
      onEvaluate: (step, accuracy, perClass) => {
        curve.push([step + 1, accuracy]);
        const byClass = perClass.map((r, c) => `${SHAPE_CLASSES[c]} ${(r * 100).toFixed(0)}`).join(', ');
        (progress?.log ?? log)(`  validation top-1 after ${step + 1} steps: ${(accuracy * 100).toFixed(1)} % (recall: ${byClass})`);
      },
    },
    onStep: (s) => {
      progress ??= taskProgress('train: step', recipe.steps, { lineEvery: 25, fields: ['loss', 'acc', 'lr'], log, done: firstStep });
      window = { loss: window.loss + s.loss, accuracy: window.accuracy + s.accuracy, n: window.n + 1 };
      progress.tick(1, { loss: (window.loss / window.n).toFixed(3), acc: (window.accuracy / window.n).toFixed(3), lr: s.learningRate.toExponential(1) });
      if ((s.step + 1) % 25 === 0) window = { loss: 0, accuracy: 0, n: 0 };
    },
  });
  (progress as TaskProgress | null)?.done(); // assigned in onStep, which TypeScript cannot see
  return { onnx: decodeModel(bytes), curve, seconds: (Date.now() - started) / 1000 };
}
