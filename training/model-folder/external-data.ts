/** @module Writes a model folder's split form (training/onnx/external-data.ts), pre-optimised when it checks out. */
import { join } from 'node:path';
import type { Manifest } from '../../src/core/manifest.js';
import { sha256OfBytes, writeFileAtomic } from './files.js';
import { splitExternalData, splitFileNames } from '../onnx/external-data.js';
import { preOptimisedForm, type OutputCheck } from '../onnx/pre-optimise.js';

/**
 * Writes `file`'s graph and weights beside it in `dir`; returns what the manifest says of them. The graph is the
 * pre-optimised one when it passes preOptimisedForm's checks on `check`'s inputs, else `file`'s own (said on `log`).
 */
export async function writeExternalDataForm(dir: string, file: string, model: Uint8Array, check: OutputCheck, log: (line: string) => void = () => {}): Promise<NonNullable<Manifest['externalData']>> {
  const names = splitFileNames(file);
  const optimised = await preOptimisedForm(model, names.weights, check);
  if (optimised.kept) log(`export: ${names.graph} pre-optimised by ${optimised.by} (outputs within ${optimised.maxAbsDelta.toExponential(1)} of ${file} on ${check.tensors.length} inputs)`);
  else log(`export: ${names.graph} not pre-optimised: ${optimised.reason}`);
  const { graph, weights } = optimised.kept ? optimised : splitExternalData(model, names.weights);
  await writeFileAtomic(join(dir, names.weights), weights);
  await writeFileAtomic(join(dir, names.graph), graph);
  return {
    graph: { file: names.graph, sha256: sha256OfBytes(graph), bytes: graph.byteLength },
    weights: { file: names.weights, sha256: sha256OfBytes(weights), bytes: weights.byteLength },
    ...(optimised.kept ? { preOptimised: { level: 'all' as const, by: optimised.by } } : {}),
  };
}
