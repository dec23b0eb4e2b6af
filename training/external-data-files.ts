/** @module Writes a model folder's split form (training/onnx/external-data.ts) and its manifest entry. */
import { join } from 'node:path';
import type { Manifest } from '../src/core/manifest.js';
import { sha256OfBytes, writeFileAtomic } from './files.js';
import { splitExternalData, splitFileNames } from './onnx/external-data.js';

/** Writes `file`'s graph and weights beside it in `dir`; returns what the manifest says of them. */
export async function writeExternalDataForm(dir: string, file: string, model: Uint8Array): Promise<NonNullable<Manifest['externalData']>> {
  const names = splitFileNames(file);
  const { graph, weights } = splitExternalData(model, names.weights);
  await writeFileAtomic(join(dir, names.weights), weights);
  await writeFileAtomic(join(dir, names.graph), graph);
  return {
    graph: { file: names.graph, sha256: sha256OfBytes(graph), bytes: graph.byteLength },
    weights: { file: names.weights, sha256: sha256OfBytes(weights), bytes: weights.byteLength },
  };
}
