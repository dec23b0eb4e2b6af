/**
 * @module Checkpoints: the model's weights (trainable and BN statistics), the optimizer's slots and the run's
 * state in ONE file — a JSON header and the raw floats — written to a temporary name and renamed, so a
 * crash or Ctrl-C leaves the previous checkpoint whole.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../model-folder/files.js';

const MAGIC = 'ERCK1';

interface Entry {
  name: string;
  shape: number[];
}

interface Header<S> {
  magic: string;
  state: S;
  weights: Entry[];
  optimizer: Entry[];
}

export interface Checkpoint<S> {
  state: S;
  weights: Map<string, tf.Tensor>;
  optimizer: Array<{ name: string; tensor: tf.Tensor }>;
}

const weightName = (v: tf.LayerVariable) => v.originalName;

/** Writes `model`'s weights, the optimizer's weights and `state` to `path` atomically. */
export async function saveCheckpoint<S>(path: string, model: tf.LayersModel, optimizer: tf.Optimizer | null, state: S): Promise<void> {
  const variables = model.weights;
  const optimizerWeights = optimizer ? await optimizer.getWeights() : [];
  const header: Header<S> = {
    magic: MAGIC,
    state,
    weights: variables.map((v) => ({ name: weightName(v), shape: v.shape as number[] })),
    optimizer: optimizerWeights.map((w) => ({ name: w.name, shape: w.tensor.shape })),
  };
  const tensors = [...variables.map((v) => v.read()), ...optimizerWeights.map((w) => w.tensor)];
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Float data starts on a multiple of 8 bytes so a reader can view it in place; each tensor is copied once.
  const dataStart = Math.ceil((8 + json.byteLength) / 8) * 8;
  const bytes = new Uint8Array(dataStart + 4 * tensors.reduce((a, t) => a + t.size, 0));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, json.byteLength, true);
  view.setUint32(4, dataStart, true);
  bytes.set(json, 8);
  const floats = new Float32Array(bytes.buffer, dataStart);
  let offset = 0;
  for (const t of tensors) {
    floats.set((await t.data()) as Float32Array, offset);
    offset += t.size;
  }
  await writeFileAtomic(path, bytes);
}

/** Reads a checkpoint; null when the file does not exist. Throws on a damaged file. */
export async function readCheckpoint<S>(path: string): Promise<Checkpoint<S> | null> {
  const raw = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (!raw) return null;
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(0, true);
  const dataStart = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + jsonLength))) as Header<S>;
  if (header.magic !== MAGIC) throw new Error(`${path} is not a training checkpoint`);
  if (dataStart < 8 + jsonLength || dataStart > bytes.byteLength) throw new Error(`${path} is truncated`);
  const aligned = (bytes.byteOffset + dataStart) % 4 === 0;
  const floats = aligned ? new Float32Array(bytes.buffer, bytes.byteOffset + dataStart, (bytes.byteLength - dataStart) >> 2) : new Float32Array(bytes.slice(dataStart).buffer);
  let offset = 0;
  const take = (e: Entry) => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (offset + n > floats.length) throw new Error(`${path} is truncated`);
    const t = tf.tensor(floats.subarray(offset, offset + n), e.shape);
    offset += n;
    return t;
  };
  const weights = new Map(header.weights.map((e) => [e.name, take(e)] as const));
  const optimizer = header.optimizer.map((e) => ({ name: e.name, tensor: take(e) }));
  return { state: header.state, weights, optimizer };
}

/** Copies checkpoint weights into `model` by name (every model weight must be present). */
export function restoreWeights(model: tf.LayersModel, weights: Map<string, tf.Tensor>): void {
  for (const v of model.weights) {
    const t = weights.get(weightName(v));
    if (!t) throw new Error(`checkpoint has no weight ${weightName(v)}`);
    v.write(t);
  }
}

export function disposeCheckpoint(c: Checkpoint<unknown>): void {
  tf.dispose([...c.weights.values(), ...c.optimizer.map((o) => o.tensor)]);
}
