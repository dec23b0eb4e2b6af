/**
 * @module The Worker's pre-optimised model form: the graph as onnxruntime saves it after its own optimisations,
 * split into graph + weights (external-data.ts). A new isolate runs ORT's optimisers on code V8 has not tiered
 * up yet, so skipping them shortens the cold start (docs/2026-12-01-cold-start.md); the file is kept only when
 * it holds portable ops and the Worker's engine gives the original's outputs from it.
 */
import type { ExternalData, SessionOptions } from '../../src/ort/session-options.js';
import { createWasmSession, WORKER_SESSION_OPTIONS } from '../ort/web.js';
import { ORT_NODE_VERSION, saveOptimisedModel } from '../ort/node.js';
import { splitExternalData, type SplitModel } from './external-data.js';
import { decodeModel } from './proto.js';

/** Op domains the wasm engine implements on every host. `com.microsoft.nchwc` (x86/ARM native layouts) is not. */
const PORTABLE_DOMAINS = new Set(['', 'ai.onnx', 'com.microsoft']);
/** Largest |Δ| of any output allowed between the original and the pre-optimised form (the 1e-5). */
export const PRE_OPTIMISED_TOLERANCE = 1e-5;

export interface OutputCheck {
  /** NCHW float32 inputs, e.g. a held-out split through the Worker's preprocessing. */
  tensors: readonly Float32Array[];
  dims: readonly number[];
}

export type PreOptimisedForm =
  | (SplitModel & { kept: true; by: string; maxAbsDelta: number; ops: string[] })
  | { kept: false; reason: string };

/** Ops (`domain:type`) a model file holds, sorted. */
export function modelOps(model: Uint8Array): string[] {
  const nodes = decodeModel(model).graph?.node ?? [];
  return [...new Set(nodes.map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`))].sort();
}

/** The ops of `ops` whose domain the wasm engine does not implement on every host. */
export const nonPortableOps = (ops: readonly string[]): string[] => ops.filter((op) => !PORTABLE_DOMAINS.has(op.slice(0, op.lastIndexOf(':'))));

/** Largest |a − b| of the first output, original file vs a pre-optimised split form, in the Worker's engine. */
export async function maxOutputDelta(original: Uint8Array, optimised: SplitModel, location: string, check: OutputCheck, options: SessionOptions): Promise<number> {
  const externalData: ExternalData = { path: location, data: optimised.weights };
  const reference = await createWasmSession(original, options);
  const candidate = await createWasmSession(optimised.graph, { ...options, preOptimised: true }, externalData);
  let delta = 0;
  try {
    for (const tensor of check.tensors) {
      const dims = [...check.dims];
      const a = Object.values(await reference.run(tensor, dims))[0]!.data;
      const b = Object.values(await candidate.run(tensor, dims))[0]!.data;
      if (a.length !== b.length) return Infinity;
      for (let i = 0; i < a.length; i++) delta = Math.max(delta, Math.abs(a[i]! - b[i]!));
    }
  } finally {
    await reference.release();
    await candidate.release();
  }
  return delta;
}

/** The pre-optimised split form of `model` (weights at `location`), or why it is not kept. */
export async function preOptimisedForm(model: Uint8Array, location: string, check: OutputCheck, options: SessionOptions = WORKER_SESSION_OPTIONS): Promise<PreOptimisedForm> {
  if (check.tensors.length === 0) return { kept: false, reason: 'no inputs to check its outputs on' };
  const optimised = await saveOptimisedModel(model, 'all');
  const ops = modelOps(optimised);
  const foreign = nonPortableOps(ops);
  if (foreign.length > 0) return { kept: false, reason: `holds ops the wasm engine lacks on other hosts: ${foreign.join(', ')}` };
  const split = splitExternalData(optimised, location);
  const maxAbsDelta = await maxOutputDelta(model, split, location, check, options);
  if (!(maxAbsDelta <= PRE_OPTIMISED_TOLERANCE)) return { kept: false, reason: `outputs differ from the original by ${maxAbsDelta} (> ${PRE_OPTIMISED_TOLERANCE})` };
  return { kept: true, ...split, by: ORT_NODE_VERSION, maxAbsDelta, ops };
}
