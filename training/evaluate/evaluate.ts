/** @module Evaluation of an ONNX classifier on a folder-per-class set, through the shared preprocessing. */
import { readFile } from 'node:fs/promises';
import { argmax, softmax } from '../../src/core/classify.js';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';
import { readFolderDataset } from '../data/folder.js';
import { loadImageTensors, type LoadedSet } from '../data/load.js';
import { majorityVote, softVote } from './ensemble.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';
import { createNodeSession, type NodeSession } from '../ort/node.js';
import { createWasmSession } from '../ort/web.js';

/**
 * Which onnxruntime computes a model's outputs. `wasm` (the default): onnxruntime-web's wasm engine with the
 * Worker's session options, the numbers the edge computes, the same on any host. `native`: onnxruntime-node
 * on this CPU, fast, for float work (fp32 references, feature caching); its int8 kernels differ by CPU.
 */
export const ENGINES = ['wasm', 'native'] as const;
export type Engine = (typeof ENGINES)[number];

/** How reports name the engines behind their int8 and fp32 figures. */
export const INT8_ENGINE = "onnxruntime-web wasm, the Worker's session options";
export const FP32_ENGINE = 'onnxruntime-node (native)';

export async function createEngineSession(engine: Engine, model: Uint8Array | string): Promise<NodeSession> {
  if (engine === 'native') return createNodeSession(model, { threads: 2 });
  return createWasmSession(typeof model === 'string' ? new Uint8Array(await readFile(model)) : model);
}

export interface EvaluationReport extends ClassificationMetrics {
  count: number;
  skipped: Array<{ path: string; reason: string }>;
  labels: string[];
  /** Top-1 agreement between this model and `--reference` (0..1), when given. */
  agreement?: number;
  reference_top1?: number;
  /** The engine that computed `model`'s outputs. */
  engine: Engine;
}

export interface PredictionSet {
  /** Softmax scores per image. */
  scores: Float32Array[];
  predicted: number[];
}

export interface PredictOptions {
  outputKind?: 'probabilities' | 'logits';
  engine?: Engine;
}

/** Runs a model over preprocessed [3, H, W] tensors one at a time (batch 1, as the Worker does). */
export async function predictAll(model: Uint8Array | string, tensors: Float32Array[], spec: PreprocessSpec, options: PredictOptions = {}): Promise<PredictionSet> {
  const outputKind = options.outputKind ?? 'probabilities';
  const session = await createEngineSession(options.engine ?? 'wasm', model);
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
  /** Engine for `model` (default wasm, the Worker's); the fp32 `reference` always runs natively. */
  engine?: Engine;
}

export async function evaluateModel(options: EvaluateOptions): Promise<EvaluationReport> {
  const dataset = await readFolderDataset(options.data, options.labels);
  const set = await loadImageTensors(dataset.files, options.spec);
  if (set.tensors.length === 0) throw new Error(`no decodable images under ${options.data}`);
  const predictions = await predictAll(options.model, set.tensors, options.spec, { outputKind: options.outputKind, engine: options.engine });
  const metrics = classificationMetrics(set.labels, predictions.predicted, predictions.scores, dataset.labels.length);
  const report: EvaluationReport = { ...metrics, count: set.tensors.length, skipped: set.skipped, labels: dataset.labels, engine: options.engine ?? 'wasm' };
  if (options.reference) {
    const reference = await predictAll(options.reference, set.tensors, options.spec, { outputKind: options.outputKind, engine: 'native' });
    report.agreement = agreement(predictions.predicted, reference.predicted);
    report.reference_top1 = agreement(reference.predicted, set.labels);
  }
  return report;
}

export interface EnsembleMember {
  model: string;
  spec: PreprocessSpec;
  labels?: string[];
  outputKind?: 'probabilities' | 'logits';
}

export interface EnsembleReport {
  count: number;
  labels: string[];
  engine: Engine;
  members: Array<{ model: string; top1: number; macro_f1: number }>;
  /** Mean probability, then argmax. */
  soft_vote: ClassificationMetrics;
  /** Most top-1 votes; ties to the larger mean probability. */
  majority_vote: { top1: number; macro_f1: number };
  skipped: LoadedSet['skipped'];
}

/** Each member and their soft and majority votes, on the same images (each member through its own preprocessing). */
export async function evaluateEnsemble(members: EnsembleMember[], data: string, engine: Engine = 'wasm'): Promise<EnsembleReport> {
  const labels = members[0]!.labels;
  for (const m of members) {
    if (labels && m.labels && m.labels.join('\n') !== labels.join('\n')) throw new Error(`${m.model} has other labels than ${members[0]!.model}: an ensemble needs the same labels in the same order`);
  }
  const dataset = await readFolderDataset(data, labels);
  const bySpec = new Map<string, LoadedSet>();
  const scores: Float32Array[][] = [];
  let first: LoadedSet | undefined;
  for (const m of members) {
    const key = JSON.stringify(m.spec);
    if (!bySpec.has(key)) bySpec.set(key, await loadImageTensors(dataset.files, m.spec));
    const set = bySpec.get(key)!;
    first ??= set;
    if (set.paths.join('\n') !== first.paths.join('\n')) throw new Error(`${m.model}: its preprocessing skipped other files than the first member's`);
    scores.push((await predictAll(m.model, set.tensors, m.spec, { outputKind: m.outputKind, engine })).scores);
  }
  const { labels: truth, skipped } = first!;
  if (truth.length === 0) throw new Error(`no decodable images under ${data}`);
  const classes = dataset.labels.length;
  const metricsOf = (s: Float32Array[], predicted = s.map((x) => argmax(x))) => classificationMetrics(truth, predicted, s, classes);
  const soft = softVote(scores);
  const majority = metricsOf(soft, majorityVote(scores));
  return {
    count: truth.length,
    labels: dataset.labels,
    engine,
    members: members.map((m, i) => {
      const r = metricsOf(scores[i]!);
      return { model: m.model, top1: r.top1, macro_f1: r.macro_f1 };
    }),
    soft_vote: metricsOf(soft),
    majority_vote: { top1: majority.top1, macro_f1: majority.macro_f1 },
    skipped,
  };
}
