/** @module Evaluation of an ONNX classifier on a folder-per-class set, through the shared preprocessing. */
import { argmax, softmax } from '../src/core/classify.js';
import type { PreprocessSpec } from '../src/core/preprocess-spec.js';
import { readFolderDataset } from './data/folder.js';
import { loadImageTensors } from './data/load.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';
import { createNodeSession } from './ort-node.js';

export interface EvaluationReport extends ClassificationMetrics {
  count: number;
  skipped: Array<{ path: string; reason: string }>;
  labels: string[];
  /** Top-1 agreement between this model and `--reference` (0..1), when given. */
  agreement?: number;
  reference_top1?: number;
}

export interface PredictionSet {
  /** Softmax scores per image. */
  scores: Float32Array[];
  predicted: number[];
}

/** Runs a model over preprocessed [3, H, W] tensors one at a time (batch 1, as the Worker does). */
export async function predictAll(model: Uint8Array | string, tensors: Float32Array[], spec: PreprocessSpec, outputKind: 'probabilities' | 'logits' = 'probabilities'): Promise<PredictionSet> {
  const session = await createNodeSession(model, { threads: 2 });
  const scores: Float32Array[] = [];
  try {
    for (const t of tensors) {
      const out = await session.run(t, [1, 3, spec.height, spec.width]);
      const raw = out[session.outputNames[0]!]!.data;
      scores.push(outputKind === 'logits' ? softmax(raw) : Float32Array.from(raw));
    }
  } finally {
    await session.release();
  }
  return { scores, predicted: scores.map((s) => argmax(s)) };
}

export const agreement = (a: number[], b: number[]) => a.filter((p, i) => p === b[i]).length / Math.max(1, a.length);

export interface EvaluateOptions {
  model: string;
  data: string;
  spec: PreprocessSpec;
  /** Class names in the model's output order; default: the data folder's sorted class folders. */
  labels?: string[];
  reference?: string;
  outputKind?: 'probabilities' | 'logits';
}

export async function evaluateModel(options: EvaluateOptions): Promise<EvaluationReport> {
  const dataset = await readFolderDataset(options.data, options.labels);
  const set = await loadImageTensors(dataset.files, options.spec);
  if (set.tensors.length === 0) throw new Error(`no decodable images under ${options.data}`);
  const predictions = await predictAll(options.model, set.tensors, options.spec, options.outputKind);
  const metrics = classificationMetrics(set.labels, predictions.predicted, predictions.scores, dataset.labels.length);
  const report: EvaluationReport = { ...metrics, count: set.tensors.length, skipped: set.skipped, labels: dataset.labels };
  if (options.reference) {
    const reference = await predictAll(options.reference, set.tensors, options.spec, options.outputKind);
    report.agreement = agreement(predictions.predicted, reference.predicted);
    report.reference_top1 = agreement(reference.predicted, set.labels);
  }
  return report;
}
