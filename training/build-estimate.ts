/**
 * @module How long the default model's first build will take on this machine, measured before it starts: a few
 * shapes drawn and written, and a few training steps of the real network at the real batch, each timed. A
 * training worker runs the same step on its own core, so the probe's step time is the build's (the exchange
 * between workers adds a little; bench/results/default-model.json records estimate against actual).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeShapesDataset } from './data/write-shapes.js';
import { buildResNet50, type ResNet50Options } from './model/resnet50.js';
import { tf, useBackend } from './tf/backend.js';
import { crossEntropy } from './train/loss.js';

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

/** Seconds per training step (forward, backward) of one worker's share of the batch; the first steps warm up. */
async function timeTrainingStep(model: ResNet50Options, batch: number, warmup = 1, timed = 2): Promise<number> {
  await useBackend('wasm');
  const network = buildResNet50(model);
  const x = tf.randomNormal([batch, model.inputSize, model.inputSize, 3], 0, 60, 'float32', 1) as tf.Tensor4D;
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % model.classes), 'int32'), model.classes).toFloat();
  const variables = network.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  let seconds = 0;
  try {
    for (let i = 0; i < warmup + timed; i++) {
      const started = performance.now();
      const { value, grads } = tf.variableGrads(() => crossEntropy(y, network.apply(x, { training: true }) as tf.Tensor), variables);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
      if (i >= warmup) seconds += (performance.now() - started) / 1000;
    }
  } finally {
    tf.dispose([x, y]);
    network.dispose();
  }
  return seconds / timed;
}

export async function estimateBuild(options: { model: ResNet50Options; batchPerWorker: number; steps: number; shapesToDraw: number }): Promise<BuildEstimate> {
  const perShape = options.shapesToDraw > 0 ? await timeDrawing(25) : 0;
  const step = await timeTrainingStep(options.model, options.batchPerWorker);
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
