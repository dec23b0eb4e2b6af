/** @module File → model input, through exactly the Worker's decode and preprocessing. */
import { readFile } from 'node:fs/promises';
import { decodeImage, type DecodeLimits } from '../../src/core/image/decode.js';
import { preprocessImage } from '../../src/core/preprocess.js';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';

/** The pipeline reads its own files: allow big photos (the Worker's budget is a request-path limit). */
export const PIPELINE_DECODE_LIMITS: DecodeLimits = { maxPixels: 64_000_000 };

/** Decodes and preprocesses one file into a [3, H, W] float32 tensor (planar, the spec's colour order). */
export async function loadImageTensor(path: string, spec: PreprocessSpec, out?: Float32Array): Promise<Float32Array> {
  const bytes = new Uint8Array(await readFile(path));
  return preprocessImage(decodeImage(bytes, PIPELINE_DECODE_LIMITS, { for: spec }), spec, out);
}

export interface LoadedSet {
  /** One [3, H, W] tensor per loaded file. */
  tensors: Float32Array[];
  labels: number[];
  paths: string[];
  /** Files that could not be read or decoded, with the reason (skipped, not fatal). */
  skipped: Array<{ path: string; reason: string }>;
}

export async function loadImageTensors(files: Array<{ path: string; label: number }>, spec: PreprocessSpec, onProgress?: (done: number) => void): Promise<LoadedSet> {
  const set: LoadedSet = { tensors: [], labels: [], paths: [], skipped: [] };
  for (const [i, f] of files.entries()) {
    try {
      set.tensors.push(await loadImageTensor(f.path, spec));
      set.labels.push(f.label);
      set.paths.push(f.path);
    } catch (e) {
      set.skipped.push({ path: f.path, reason: e instanceof Error ? e.message : String(e) });
    }
    onProgress?.(i + 1);
  }
  return set;
}
