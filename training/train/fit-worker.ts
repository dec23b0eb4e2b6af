/**
 * @module One data-parallel training worker (see parallel-fit.ts). Per step: every worker computes gradients on
 * its share of the batch and publishes them in shared memory; after a barrier, each worker averages the
 * gradients of its own part of the variables and applies Adam to that part, writing the new weights to a
 * shared buffer; after a second barrier, every replica loads all new weights from it. Each worker keeps Adam
 * moments only for its part, and no weight is sent twice.
 */
import { parentPort } from 'node:worker_threads';
import { seededRandom } from '../data/random.js';
import { buildResNet50, type ResNet50Options } from '../network/resnet.js';
import { encodeModel } from '../onnx/proto.js';
import { exportToOnnx } from '../onnx/export.js';
import { tf, useBackend } from '../tf/backend.js';
import { adamStepInto, createAdamState } from '../tf/fused-adam.js';
import { float32View } from '../tf/heap.js';
import type { AugmentOptions } from './augment.js';
import { arriveAndWait } from './barrier.js';
import type { WorkerCheckpoint } from './fit-checkpoint.js';
import { batchOrder } from './batch-order.js';
import { channelPermuter, type ChannelPermutation } from './channel-permutation.js';
import { makeBatch, type Recolour, type TensorSet } from './batches.js';
import { contrastReducer, type ContrastReduction } from './contrast.js';
import { crossEntropy } from './loss.js';
import { lateSwapper, type LatePool } from './late-pool.js';
import { warmupCosine } from './schedule.js';

export interface FitWorkerData {
  rank: number;
  workers: number;
  model: ResNet50Options;
  /** All images, [count, 3, H, W] planar float32, and their labels. */
  images: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  width: number;
  height: number;
  classes: number;
  batchPerWorker: number;
  steps: number;
  schedule: { base: number; warmup: number; final: number };
  augment: AugmentOptions | null;
  /** Late colour-channel permutation of training images (channel-permutation.ts), or none. */
  channelPermutation?: ChannelPermutation | null;
  /** Late random contrast reduction of training images (contrast.ts), or none. */
  contrastReduction?: ContrastReduction | null;
  /** Late pool (late-pool.ts): the images from `first` on are outside the regular order, swapped in late. */
  latePool?: LatePool | null;
  seed: number;
  /** [workers][parameters] float32 gradients. */
  gradients: SharedArrayBuffer;
  /** [parameters] float32: the weights after the last update. */
  weights: SharedArrayBuffer;
  barrier: SharedArrayBuffer;
  /** Held-out images ([count, 3, H, W]) that worker 0 scores every `every` steps (a learning curve), or null. */
  evaluation: { images: SharedArrayBuffer; labels: SharedArrayBuffer; every: number } | null;
  /** Post this worker's checkpoint state after every `every`-th step (fit-checkpoint.ts), or never. */
  checkpointEvery?: number;
  /** Continue after `step`: the trainable weights (all workers), this worker's own state. */
  resume?: { step: number; weights: Float32Array; own: WorkerCheckpoint } | null;
}

export type FitWorkerMessage =
  | { kind: 'step'; rank: number; step: number; loss: number; correct: number; count: number; learningRate: number }
  | { kind: 'eval'; step: number; accuracy: number; perClass: number[] }
  | { kind: 'checkpoint'; rank: number; step: number; state: WorkerCheckpoint; weights?: Float32Array }
  | { kind: 'done'; rank: number; checksum: number; onnx?: Uint8Array };

/** Σ of every trainable weight in float64: equal on all workers when the replicas stayed identical. */
export function weightChecksum(variables: readonly tf.Variable[]): number {
  let sum = 0;
  for (const v of variables) for (const value of float32View(v)) sum += value;
  return sum;
}

/** Splits variable indices into `parts` groups of near-equal size (largest first, each to the lightest group). */
export function partitionBySize(sizes: readonly number[], parts: number): number[][] {
  const groups = Array.from({ length: parts }, () => ({ total: 0, members: [] as number[] }));
  const order = sizes.map((size, i) => ({ size, i })).sort((a, b) => b.size - a.size || a.i - b.i);
  for (const { size, i } of order) {
    const lightest = groups.reduce((best, g) => (g.total < best.total ? g : best));
    lightest.members.push(i);
    lightest.total += size;
  }
  return groups.map((g) => g.members.sort((a, b) => a - b));
}

/** Planar [count, 3, H, W] images in shared memory as the tensor set the batch maker reads. */
function sharedSet(images: SharedArrayBuffer, labels: SharedArrayBuffer, data: FitWorkerData): TensorSet {
  const stride = 3 * data.width * data.height;
  const all = new Float32Array(images);
  return {
    tensors: Array.from({ length: all.length / stride }, (_, i) => all.subarray(i * stride, (i + 1) * stride)),
    labels: Array.from(new Int32Array(labels)),
    width: data.width,
    height: data.height,
    classes: data.classes,
  };
}

/** Top-1 accuracy of the model (inference mode) on a held-out set, overall and per class (recall), in batches of 50. */
function accuracyOn(model: tf.LayersModel, set: TensorSet): { accuracy: number; perClass: number[] } {
  const hits = new Array<number>(set.classes).fill(0);
  const totals = new Array<number>(set.classes).fill(0);
  for (let start = 0; start < set.tensors.length; start += 50) {
    const indices = Array.from({ length: Math.min(50, set.tensors.length - start) }, (_, k) => start + k);
    const { x, y } = makeBatch(set, indices, null, seededRandom(0));
    const predicted = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, 1).dataSync());
    tf.dispose([x, y]);
    indices.forEach((index, k) => {
      const label = set.labels[index]!;
      totals[label]!++;
      if (predicted[k] === label) hits[label]!++;
    });
  }
  return { accuracy: hits.reduce((a, b) => a + b, 0) / set.tensors.length, perClass: hits.map((h, c) => (totals[c] ? h / totals[c]! : 0)) };
}

export async function runFitWorker(data: FitWorkerData): Promise<void> {
  await useBackend('wasm');
  const post = (message: FitWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);
  const model = buildResNet50(data.model);
  const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const sizes = variables.map((v) => v.size);
  const offsets: number[] = [];
  let parameters = 0;
  for (const size of sizes) {
    offsets.push(parameters);
    parameters += size;
  }
  if (data.weights.byteLength !== parameters * 4) throw new Error(`fit-worker: weight buffer sized for another model (${data.weights.byteLength} bytes, model has ${parameters} parameters)`);
  const part = (buffer: Float32Array, i: number) => buffer.subarray(offsets[i], offsets[i]! + sizes[i]!);
  const gradients = Array.from({ length: data.workers }, (_, r) => new Float32Array(data.gradients, r * parameters * 4, parameters));
  const weights = new Float32Array(data.weights);
  const barrier = new Int32Array(data.barrier);
  const sync = () => arriveAndWait(barrier, data.workers);
  const load = () =>
    variables.forEach((v, i) => {
      const t = tf.tensor(part(weights, i), v.shape, 'float32');
      v.assign(t);
      t.dispose();
    });
  const resume = data.resume ?? null;
  const statistics = model.nonTrainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  // Worker 0's initial weights for everyone (the same seed already makes them equal; this makes it certain),
  // or the checkpoint's.
  if (data.rank === 0) {
    if (resume) weights.set(resume.weights);
    else variables.forEach((v, i) => weights.set(float32View(v), offsets[i]));
  }
  sync();
  if (data.rank !== 0 || resume) load();

  const mine = partitionBySize(sizes, data.workers)[data.rank]!;
  const state = createAdamState(mine.map((i) => sizes[i]!));
  if (resume) {
    if (resume.own.m.length !== mine.length || resume.own.nonTrainable.length !== statistics.length) throw new Error('fit-worker: the checkpoint is for another model or worker count');
    resume.own.m.forEach((m, j) => state.m[j]!.set(m));
    resume.own.v.forEach((v, j) => state.v[j]!.set(v));
    statistics.forEach((s, i) => {
      const t = tf.tensor(resume.own.nonTrainable[i]!, s.shape, 'float32');
      s.assign(t);
      t.dispose();
    });
  }
  const set = sharedSet(data.images, data.labels, data);
  const pool = data.latePool ?? null;
  const count = pool ? pool.first : set.tensors.length;
  const heldOut = data.evaluation && data.rank === 0 ? sharedSet(data.evaluation.images, data.evaluation.labels, data) : null;
  // Same order on every worker (same seed); each takes its own slice of every global batch.
  const global = data.batchPerWorker * data.workers;
  const nextBatch = batchOrder({ count, batch: global, seed: data.seed });
  const augmentRandom = seededRandom(data.seed + 7919 * (data.rank + 1));
  const permutation = data.channelPermutation ?? null;
  const fading = data.contrastReduction ?? null;
  // Each has its own random stream, so that turning one on leaves every other draw (order, augmentation) unchanged.
  const permute = permutation ? channelPermuter(permutation.probability, seededRandom(data.seed + 104729 * (data.rank + 1))) : null;
  const fade = fading ? contrastReducer(fading.probability, fading.lowest, seededRandom(data.seed + 130363 * (data.rank + 1))) : null;
  const swapLate = pool ? lateSwapper(pool, set.labels, set.tensors.length, seededRandom(data.seed + 171733 * (data.rank + 1))) : (_: number, indices: number[]) => indices;
  const recolourAt = (step: number): Recolour | undefined => {
    const active = [permutation && step >= permutation.fromStep ? permute : null, fading && step >= fading.fromStep ? fade : null].filter((f) => f !== null);
    return active.length === 0 ? undefined : (xs, offset, pixels) => active.forEach((f) => f(xs, offset, pixels));
  };
  const batchAt = (step: number) => {
    const indices = swapLate(step, nextBatch().slice(data.rank * data.batchPerWorker, (data.rank + 1) * data.batchPerWorker));
    return { indices, ...makeBatch(set, indices, data.augment, augmentRandom, recolourAt(step)) };
  };
  // A resumed run draws (and drops) the batches it already trained on: every random stream is where it was.
  const first = resume ? resume.step + 1 : 0;
  for (let step = 0; step < first; step++) {
    const { x, y } = batchAt(step);
    tf.dispose([x, y]);
  }
  for (let step = first; step < data.steps; step++) {
    const { indices, x, y } = batchAt(step);
    let correct = 0;
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32')).dataSync()[0]!);
      return crossEntropy(y, p);
    }, variables);
    const loss = value.dataSync()[0]!;
    variables.forEach((v, i) => gradients[data.rank]!.set(float32View(grads[v.name]!), offsets[i]));
    tf.dispose([x, y, value, ...Object.values(grads)]);
    sync();
    const learningRate = warmupCosine(step, data.steps, data.schedule.warmup, data.schedule.base, data.schedule.final);
    mine.forEach((i, j) => {
      const w = part(weights, i);
      adamStepInto(w, gradients.map((g) => part(g, i)), state.m[j]!, state.v[j]!, w, learningRate, step + 1);
    });
    sync();
    load();
    post({ kind: 'step', rank: data.rank, step, loss, correct, count: indices.length, learningRate });
    if (heldOut && ((step + 1) % data.evaluation!.every === 0 || step + 1 === data.steps)) post({ kind: 'eval', step, ...accuracyOn(model, heldOut) });
    // After the evaluation: a checkpoint's extra state (the caller's curve) then includes this step's score.
    if (data.checkpointEvery && (step + 1) % data.checkpointEvery === 0 && step + 1 < data.steps) {
      const own: WorkerCheckpoint = { nonTrainable: statistics.map((s) => Float32Array.from(float32View(s))), m: state.m.map((m) => m.slice()), v: state.v.map((v) => v.slice()) };
      const buffers = [...own.nonTrainable, ...own.m, ...own.v].map((a) => a.buffer as ArrayBuffer);
      // weights is shared memory the next step overwrites: worker 0 sends a copy.
      if (data.rank === 0) {
        const copy = weights.slice();
        post({ kind: 'checkpoint', rank: 0, step, state: own, weights: copy }, [...buffers, copy.buffer as ArrayBuffer]);
      } else post({ kind: 'checkpoint', rank: data.rank, step, state: own }, buffers);
    }
  }
  const checksum = weightChecksum(variables);
  if (data.rank === 0) {
    const onnx = encodeModel(exportToOnnx(model));
    post({ kind: 'done', rank: 0, checksum, onnx }, [onnx.buffer as ArrayBuffer]);
  } else {
    post({ kind: 'done', rank: data.rank, checksum });
  }
}
