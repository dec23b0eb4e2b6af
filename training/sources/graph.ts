/**
 * @module A source network as a graph of the operations ResNet classifiers are made of, with their weights: what
 * each file reader (Keras config, ONNX graph) produces in the source's own names, and what recognize.ts reads
 * the one network description from. Layouts are normalised here: convolution kernels HWIO, dense kernels
 * [in, out] (Keras'), padding as [top, left, bottom, right].
 */
import type { WeightArray } from './layer-weights.js';

export type Pads = [number, number, number, number];

export type Op =
  | { kind: 'input' }
  | { kind: 'pad'; pads: Pads }
  /** `pads: 'same'` is Keras' (TF's) padding: as much as the stride needs, the odd pixel after. */
  | { kind: 'conv'; kernel: [number, number]; stride: [number, number]; pads: Pads | 'same'; weight: WeightArray; bias?: Float32Array }
  | { kind: 'batch-norm'; gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array; epsilon: number }
  | { kind: 'relu' }
  | { kind: 'softmax' }
  | { kind: 'add' }
  | { kind: 'max-pool'; kernel: [number, number]; stride: [number, number]; pads: Pads | 'same' }
  | { kind: 'global-pool'; mode: 'avg' | 'max' }
  /** `order`: the element order of the flattened map (Keras flattens NHWC, torch NCHW). */
  | { kind: 'flatten'; order: 'hwc' | 'chw' }
  | { kind: 'dense'; weight: WeightArray; bias?: Float32Array }
  | { kind: 'dropout'; rate: number }
  | { kind: 'identity' }
  /** Keras' Rescaling on the input: x · scale + offset (the source's preprocessing, inside its graph). */
  | { kind: 'rescale'; scale: number; offset: number };

export interface OpNode {
  /** The source's own name for it (a Keras layer, an ONNX node): error messages name it. */
  name: string;
  /** What the source calls the operation (`Conv2D`, `Conv`…), for messages. */
  sourceType: string;
  op: Op;
  /** Names of the nodes whose outputs it reads, in order. */
  inputs: string[];
}

export interface OpGraph {
  nodes: Map<string, OpNode>;
  /** The image input node and the node whose output is the classifier's. */
  input: string;
  output: string;
}

/** A problem with the file the user gave: the CLI prints it and exits 2. Names the layer, node or field. */
export class SourceError extends Error {}
