/**
 * @module How long the default model's first build will take on this machine, measured before it starts: a few
 * shapes drawn and written, and a few steps of the real data-parallel training (same network, workers, batch)
 * on synthetic images, each timed (~30 s in all). bench/results/default-model.json records estimate and actual.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeShapesDataset } from '../data/write-shapes.js';
import { trainableParameterCount, type ResNet50Options } from '../network/resnet.js';
import type { AugmentOptions } from '../train/augment.js';
import { useBackend } from '../tf/backend.js';
import { fitDataParallel } from '../train/parallel-fit.js';

export interface BuildEstimate {
  draw_seconds: number;
  step_seconds: number;
  train_seconds: number;
  /** Everything after training (quantization, evaluation, the bench model), from the last measured build. */
  outputs_seconds: number;
  total_seconds: number;
}

/**
 * The build's part besides drawing and training (loading the images, quantization, evaluation, the bench model),
 * measured: `npm run model` from a cached training run on this project's 2-core machine, 2026-12-02, took 77 s
 * (bench/results/default-model.json's `build_seconds`, of which `outputs_seconds` 55 after the fp32 model).
 */
export const OUTPUTS_SECONDS = 77;

/** Seconds per shape drawn and written (JPEG/PNG through libvips), from `count` of them. */
async function timeDrawing(count: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-resnet-estimate-'));
  try {
    const started = performance.now();
    await writeShapesDataset({ dir, seed: 1, splits: [{ name: 'probe', perClass: Math.ceil(count / 5) }] });
    return (performance.now() - started) / 1000 / (Math.ceil(count / 5) * 5);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Seconds per training step of the real data-parallel run (same workers, batch, augmentation, exchange), on
 * synthetic images: a few steps, the first ones (compilation, warm-up) dropped. A single-thread step is not a
 * stand-in: on this project's machine (2026-12-02, scratch runs) one replica alone took 0.99 s a step where two
 * side by side took 1.32 s; this probe said 1.05 s against 1.13 s over a 40-step run of the same setup.
 */
async function timeTrainingStep(model: ResNet50Options, workers: number, batchPerWorker: number, augment: AugmentOptions | null, steps = 8, dropped = 3): Promise<number> {
  const tensors = Array.from({ length: workers * batchPerWorker * 2 }, (_, i) => Float32Array.from({ length: 3 * model.inputSize * model.inputSize }, (_, k) => Math.sin(k * 0.37 + i) * 60));
  const seconds: number[] = [];
  await useBackend('wasm'); // the parameter count builds the model on this thread
  await fitDataParallel({
    workers, model, tensors, labelsOf: tensors.map((_, i) => i % model.classes), parameters: trainableParameterCount(model), width: model.inputSize, height: model.inputSize,
    classes: model.classes, batchPerWorker, steps, schedule: { base: 1e-3, warmup: 1, final: 1e-4 }, augment, seed: 1, onStep: (s) => seconds.push(s.seconds),
  });
  const timed = seconds.slice(dropped).sort((a, b) => a - b);
  return timed[Math.floor(timed.length / 2)]!;
}

export async function estimateBuild(options: { model: ResNet50Options; workers: number; batchPerWorker: number; augment: AugmentOptions | null; steps: number; shapesToDraw: number }): Promise<BuildEstimate> {
  const perShape = options.shapesToDraw > 0 ? await timeDrawing(25) : 0;
  const step = await timeTrainingStep(options.model, options.workers, options.batchPerWorker, options.augment);
  const draw = perShape * options.shapesToDraw;
  const train = step * options.steps;
  const round = (x: number) => Math.round(x * 100) / 100;
  return { draw_seconds: Math.round(draw), step_seconds: round(step), train_seconds: Math.round(train), outputs_seconds: OUTPUTS_SECONDS, total_seconds: Math.round(draw + train + OUTPUTS_SECONDS) };
}

const minutes = (s: number) => (s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

/** What the user reads before the build starts. */
export function describeEstimate(e: BuildEstimate, steps: number): string[] {
  return [
    `model: building the default model takes about ${minutes(e.total_seconds)} on this machine (measured just now: drawing the data ~${minutes(e.draw_seconds)}, ${steps} training steps × ${e.step_seconds.toFixed(2)} s ≈ ${minutes(e.train_seconds)}, then ~${minutes(e.outputs_seconds)} to quantize, evaluate and write it).`,
    '       Ctrl-C is safe: the next run continues from the last checkpoint (every 100 training steps).',
    '       To skip it: serve your own model folder (npm start -- --model-dir DIR, after npm run pipeline -- train …),',
    '       or EDGE_RESNET_FAST_MODEL=1 npm start for a small model in about a minute (servable, not accurate).',
  ];
}
