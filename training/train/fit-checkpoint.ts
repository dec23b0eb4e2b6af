/**
 * @module A data-parallel run's checkpoint (parallel-fit.ts): after step `step`, the shared trainable weights
 * and, per worker, its BatchNorm statistics and the Adam moments of its part, plus the caller's own JSON (e.g.
 * the learning curve so far). With it a run continues at the next step and ends with the same bytes as one
 * that never stopped: the random streams (batch order, augmentation) are replayed, not stored.
 *
 * File: "FITCKPT1", a uint32 JSON length, the JSON header, then every array's float32 data in header order.
 * Written whole to a temporary name and renamed (writeFileAtomic): a crash mid-write leaves the previous one.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../model-folder/files.js';

export interface WorkerCheckpoint {
  /** Non-trainable weights (BatchNorm moving mean and variance), in model order. */
  nonTrainable: Float32Array[];
  /** Adam's first and second moments for this worker's part of the variables. */
  m: Float32Array[];
  v: Float32Array[];
}

export interface FitCheckpoint {
  /** The last completed step (0-based): a resumed run starts at step + 1. */
  step: number;
  /** What the run must match to continue from it. */
  run: { steps: number; seed: number; workers: number; parameters: number; fingerprint: string };
  weights: Float32Array;
  workers: WorkerCheckpoint[];
  extra: unknown;
}

const MAGIC = 'FITCKPT1';

interface Header {
  step: number;
  run: FitCheckpoint['run'];
  extra: unknown;
  /** Float counts: weights, then per worker nonTrainable…, m…, v…. */
  weights: number;
  workers: Array<{ nonTrainable: number[]; m: number[]; v: number[] }>;
}

export function encodeCheckpoint(c: FitCheckpoint): Uint8Array {
  const header: Header = {
    step: c.step,
    run: c.run,
    extra: c.extra,
    weights: c.weights.length,
    workers: c.workers.map((w) => ({ nonTrainable: w.nonTrainable.map((a) => a.length), m: w.m.map((a) => a.length), v: w.v.map((a) => a.length) })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const arrays = [c.weights, ...c.workers.flatMap((w) => [...w.nonTrainable, ...w.m, ...w.v])];
  const start = MAGIC.length + 4 + json.length;
  const floatsAt = Math.ceil(start / 4) * 4;
  const out = new Uint8Array(floatsAt + arrays.reduce((n, a) => n + a.byteLength, 0));
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.length, true);
  out.set(json, MAGIC.length + 4);
  let offset = floatsAt;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    offset += a.byteLength;
  }
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): FitCheckpoint {
  if (new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) throw new Error('not a training checkpoint');
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + length))) as Header;
  // A copy aligned for Float32Array views.
  const floatsAt = Math.ceil((MAGIC.length + 4 + length) / 4) * 4;
  const floats = new Float32Array(bytes.slice(floatsAt).buffer);
  let offset = 0;
  const take = (n: number) => {
    if (offset + n > floats.length) throw new Error('training checkpoint is truncated');
    const a = floats.subarray(offset, offset + n);
    offset += n;
    return a;
  };
  const weights = take(header.weights);
  const workers = header.workers.map((w) => ({ nonTrainable: w.nonTrainable.map(take), m: w.m.map(take), v: w.v.map(take) }));
  if (offset !== floats.length) throw new Error('training checkpoint has trailing data');
  return { step: header.step, run: header.run, weights, workers, extra: header.extra };
}

export const writeCheckpoint = (file: string, c: FitCheckpoint) => writeFileAtomic(file, encodeCheckpoint(c));

/** The checkpoint at `file` when there is one this run can continue from; null when absent or for another run. */
export async function readCheckpointFor(file: string, run: FitCheckpoint['run']): Promise<FitCheckpoint | null> {
  const bytes = await readFile(file).catch(() => null);
  if (!bytes) return null;
  const checkpoint = decodeCheckpoint(new Uint8Array(bytes));
  const same = (Object.keys(run) as Array<keyof typeof run>).every((k) => checkpoint.run[k] === run[k]);
  return same && checkpoint.step + 1 < run.steps ? checkpoint : null;
}
