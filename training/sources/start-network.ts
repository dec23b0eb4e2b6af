/**
 * @module `train --weights`: the network a training run starts from and fine-tunes. `none` and `imagenet` give
 * the reference recipe's network (Keras' ResNet, GAP → Dense(1024) → Dense(N)); a file or folder gives the
 * very network it holds (training/sources/source.ts: its v1 or v1.5 blocks, widths, BN ε, head), with the
 * source's preprocessing. The source's head is kept, weights and all, when it has as many outputs as the data
 * has classes (then its own label order is kept too, where known); otherwise its classifier is replaced by a
 * fresh one. The training network always ends in softmax (what the loss reads): a logits source is compared
 * after softmax.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseManifest } from '../../src/core/manifest.js';
import { caffePreprocess, type PreprocessSpec } from '../../src/core/preprocess-spec.js';
import { classifierOf, standardResNet, type HeadLayer, type ResNetDepth, type ResNetDescription } from '../network/description.js';
import { headLayerNames } from '../network/resnet.js';
import { fetchPinned, KERAS_RESNET50_NOTOP } from './download.js';
import { SourceError } from './graph.js';
import { readKerasH5 } from './keras-h5.js';
import type { LayerWeights } from './layer-weights.js';
import { readSource, type SourceNetwork } from './source.js';

export interface StartNetwork {
  description: ResNetDescription;
  /** Weights by our layer names (the new classifier's absent), or null for `none`. */
  weights: LayerWeights | null;
  spec: PreprocessSpec;
  /** The label order the kept head was trained with, when known (its model folder's manifest, HF id2label). */
  labels?: string[];
  /** The source read, and whether its head (classifier included) was kept. */
  source?: SourceNetwork;
  keptHead: boolean;
  /** For the log: what was loaded. */
  summary: string;
}

export interface StartOptions {
  inputSize: number;
  /** Classes of the data (the classifier's outputs), and their sorted names. */
  classes: number;
  dataLabels: string[];
  dropout: number;
  depth?: ResNetDepth;
  log: (line: string) => void;
}

/** Our own model folder (`--weights runs/x/model-fp32.onnx`): its manifest's preprocessing and labels. */
async function folderManifest(path: string) {
  const text = await readFile(join(dirname(path), 'manifest.json'), 'utf8').catch(() => null);
  return text === null ? null : parseManifest(JSON.parse(text));
}

/** The same preprocessing for another input size (a shorter-side resize keeps its ratio to the crop). */
function specAtSize(spec: PreprocessSpec, size: number): PreprocessSpec {
  if (spec.width === size && spec.height === size) return spec;
  return { ...spec, width: size, height: size, ...(spec.resize === 'shorter-side' ? { resizeShorter: Math.floor((size * spec.resizeShorter!) / spec.width) } : {}) };
}

/** A head for `classes` outputs from the source's: its hidden layers kept, a softmax classifier (replaced if the count differs). */
function trainingHead(head: HeadLayer[], classes: number, dropout: number): { head: HeadLayer[]; keptClassifier: boolean } {
  const hidden = head.slice(0, -1);
  const classifier = classifierOf({ head });
  const keptClassifier = classifier.units === classes;
  if (dropout > 0 && !hidden.some((l) => l.kind === 'dropout')) hidden.push({ kind: 'dropout', rate: dropout });
  return { head: [...hidden, { kind: 'dense', units: classes, activation: 'softmax' }], keptClassifier };
}

export async function startNetwork(weights: string, o: StartOptions): Promise<StartNetwork> {
  if (weights === 'none' || weights === 'imagenet') {
    const description = standardResNet({ depth: o.depth, inputSize: o.inputSize, classes: o.classes, dropout: o.dropout });
    if (weights === 'none') return { description, weights: null, spec: caffePreprocess(o.inputSize, o.inputSize), keptHead: false, summary: 'random initialisation' };
    const path = await fetchPinned(KERAS_RESNET50_NOTOP, undefined, o.log);
    return { description, weights: await readKerasH5(path), spec: caffePreprocess(o.inputSize, o.inputSize), keptHead: false, summary: `Keras' ImageNet ResNet50 trunk (${path})` };
  }
  // Read at the file's own size (an ONNX export fixes one); the network is built at the training size.
  const source = await readSource(weights, { depth: o.depth });
  const manifest = source.kind === 'onnx' ? await folderManifest(weights) : null;
  const sourceLabels = manifest?.labels ?? source.labels ?? undefined;
  const { head, keptClassifier } = trainingHead(source.description.head, o.classes, o.dropout);
  // A kept classifier keeps its label order only when the data has the same classes (else the data's sorted order).
  const sameClasses = sourceLabels !== undefined && [...sourceLabels].sort().join('\n') === [...o.dataLabels].sort().join('\n');
  const description: ResNetDescription = { ...source.description, inputSize: o.inputSize, head };
  const spec = specAtSize(manifest ? manifest.preprocess : source.preprocess, o.inputSize);
  // Weights under the training head's names; the classifier's only when it is kept.
  const sourceNames = headLayerNames(source.description);
  const trainingNames = headLayerNames(description);
  const start: LayerWeights = new Map([...source.weights].filter(([name]) => !sourceNames.includes(name)));
  const sourceDense = source.description.head.flatMap((l, i) => (l.kind === 'dense' ? [sourceNames[i]!] : []));
  const trainingDense = head.flatMap((l, i) => (l.kind === 'dense' ? [trainingNames[i]!] : []));
  const sourceBns = source.description.head.flatMap((l, i) => (l.kind === 'batch-norm' ? [sourceNames[i]!] : []));
  const trainingBns = head.flatMap((l, i) => (l.kind === 'batch-norm' ? [trainingNames[i]!] : []));
  sourceDense.slice(0, -1).forEach((name, i) => start.set(trainingDense[i]!, source.weights.get(name)!));
  sourceBns.forEach((name, i) => start.set(trainingBns[i]!, source.weights.get(name)!));
  if (keptClassifier) start.set('predictions', source.weights.get(sourceDense.at(-1)!)!);
  if (o.inputSize !== source.description.inputSize && source.kind === 'onnx' && !manifest) {
    o.log(`weights: ${weights} was exported at ${source.description.inputSize}×${source.description.inputSize}; training at ${o.inputSize} (the network is convolutional up to its pooling)`);
  }
  if (source.description.pooling === 'flatten' && o.inputSize !== source.description.inputSize) throw new SourceError(`${weights}: its head flattens a ${source.description.inputSize}-pixel input's map; --input-size ${o.inputSize} cannot reuse it`);
  return {
    description,
    weights: start,
    spec,
    ...(keptClassifier && sameClasses ? { labels: sourceLabels } : {}),
    source,
    keptHead: keptClassifier,
    summary: `${source.detail}${keptClassifier ? ', its head kept' : `, a new ${o.classes}-class classifier`}`,
  };
}
