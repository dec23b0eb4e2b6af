/**
 * @module The imported network checked against an independent reference on the same inputs, at import time:
 * - ONNX: our network (rebuilt from the description: what `train --weights` fine-tunes) against the source graph
 *   itself, both in onnxruntime-node;
 * - Keras: our fp32 export (onnxruntime-node) against the file's own config rebuilt by tfjs-layers
 *   (`modelFromJSON`, the deserializer TF.js ships for Keras files) with the file's weights set by layer name; the
 *   config is first written in the Keras 2 form tfjs-layers reads (Keras 3's node and dtype encodings only);
 * - Hugging Face and keras-applications weights: nothing here runs them; said so.
 */
import * as tf from '@tensorflow/tfjs';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';
import { classifierOf } from '../network/description.js';
import { buildResNet } from '../network/resnet.js';
import { exportToOnnx } from '../onnx/export.js';
import { encodeModel } from '../onnx/proto.js';
import { createNodeSession } from '../ort/node.js';
import { useBackend } from '../tf/backend.js';
import { inboundLayers, type KerasLayerConfig } from './keras-model.js';
import { applyLayerWeights } from './layer-weights.js';
import type { SourceNetwork } from './source.js';

export type ReferenceCheck =
  | { against: string; images: number; max_abs_diff: number; max_relative_diff: number }
  | { against: string; not_run: string };

/** Largest |a − b|, and the same relative to the reference's largest magnitude (logits can be large). */
function compare(ours: Float32Array, reference: Float32Array) {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i]! - reference[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return { max_abs_diff: worst, max_relative_diff: worst / Math.max(1, scale) };
}

async function runOnnx(bytes: Uint8Array, inputs: Float32Array[], size: number): Promise<Float32Array> {
  const session = await createNodeSession(bytes);
  try {
    const parts: Float32Array[] = [];
    for (const x of inputs) parts.push(Float32Array.from((await session.run(x, [1, 3, size, size]))[session.outputNames[0]!]!.data));
    return Float32Array.from(parts.flatMap((p) => Array.from(p)));
  } finally {
    await session.release();
  }
}

/** The network our description builds, with the source's weights (throws when a weight does not fit). */
export async function buildFromSource(source: SourceNetwork): Promise<tf.LayersModel> {
  await useBackend('wasm');
  const model = buildResNet(source.description);
  const report = applyLayerWeights(model, source.weights);
  if (report.missing.length > 0 || report.unused.length > 0) throw new Error(`internal: the description and the weights disagree (missing ${report.missing.join(', ')}; unused ${report.unused.join(', ')})`);
  await Promise.all(model.weights.map((w) => w.read().data()));
  return model;
}

/** A Keras 3 config in the Keras 2 form tfjs-layers deserialises (inbound nodes as name lists, plain dtypes). */
export function toKeras2Config(layer: KerasLayerConfig): KerasLayerConfig {
  const plain = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(plain);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (o.class_name === 'DTypePolicy' || o.class_name === 'FloatDTypePolicy') return String((o.config as { name?: string })?.name ?? 'float32');
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(o)) if (!['module', 'registered_name', 'build_config', 'compile_config'].includes(k)) out[k] = plain(val);
    return out;
  };
  const config = plain(layer.config) as Record<string, unknown>;
  if (config.batch_shape && !config.batch_input_shape) config.batch_input_shape = config.batch_shape;
  delete config.batch_shape;
  if (Array.isArray(config.layers)) {
    config.layers = (layer.config.layers as KerasLayerConfig[]).map((l) => {
      const converted = toKeras2Config(l);
      const name = (l.config.name as string) ?? l.name;
      return { ...converted, name, inbound_nodes: l.inbound_nodes?.length ? [inboundLayers(l.inbound_nodes, name).map((n) => [n, 0, 0, {}])] : [] };
    });
    for (const key of ['input_layers', 'output_layers']) {
      const v = config[key] as unknown[] | undefined;
      if (Array.isArray(v) && v.length > 0 && !Array.isArray(v[0])) config[key] = [v];
    }
  }
  return { class_name: layer.class_name, config };
}

/** Sets every layer of a tfjs-layers model (nested models included) from the source's weights by name. */
function setKerasWeights(model: tf.LayersModel, weights: Map<string, Map<string, Float32Array | { data: Float32Array }>>, models: string[] = []) {
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) {
      setKerasWeights(layer, weights, [...models, layer.name]);
      continue;
    }
    if (layer.weights.length === 0) continue;
    const roles = weights.get([...models, layer.name].join('/'));
    if (!roles) throw new Error(`no weights for ${[...models, layer.name].join('/')}`);
    layer.setWeights(
      layer.weights.map((w) => {
        const role = w.originalName.split('/').at(-1)!.replace(/:\d+$/, '');
        const found = roles.get(role);
        if (!found) throw new Error(`no ${role} for ${layer.name}`);
        return tf.tensor(found instanceof Float32Array ? found : found.data, w.shape as number[]);
      }),
    );
  }
}

/** Softmax over each row of `classes` values (a logits source compared with a training network's probabilities). */
function softmaxRows(values: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < values.length; r += classes) {
    const row = values.subarray(r, r + classes);
    const max = Math.max(...row);
    let sum = 0;
    for (let i = 0; i < classes; i++) sum += out[r + i] = Math.exp(row[i]! - max);
    for (let i = 0; i < classes; i++) out[r + i]! /= sum;
  }
  return out;
}

export interface CheckOptions {
  /** Compare with the source's outputs after a softmax (the candidate ends in softmax, the source in logits). */
  softmaxSource?: boolean;
}

/**
 * `candidate` (an ONNX model of ours: the network rebuilt from the description, or its fp32 export) against the
 * source itself on `inputs` (preprocessed NCHW images). Never throws for a reference that cannot run here: the
 * reason is reported instead.
 */
export async function checkAgainstSource(source: SourceNetwork, candidate: Uint8Array, inputs: Float32Array[], spec: PreprocessSpec, o: CheckOptions = {}): Promise<ReferenceCheck> {
  const size = spec.width;
  const classes = classifierOf(source.description).units;
  const finish = (reference: Float32Array) => (o.softmaxSource ? softmaxRows(reference, classes) : reference);
  if (source.kind === 'onnx') {
    const against = 'the source ONNX graph in onnxruntime-node';
    if (source.description.inputSize !== size) return { against, not_run: `the file's input is ${source.description.inputSize}×${source.description.inputSize}, these images ${size}×${size}` };
    return { against, images: inputs.length, ...compare(await runOnnx(candidate, inputs, size), finish(await runOnnx(encodeModel(source.onnx!.model), inputs, size))) };
  }
  if (source.kind === 'keras-h5' || source.kind === 'keras-v3') {
    const against = "the file's own config rebuilt by tfjs-layers (modelFromJSON) with its weights";
    let reference: tf.LayersModel;
    try {
      await useBackend('wasm');
      // Keras 3 writes its own node and dtype forms into .keras and legacy .h5 alike: always the Keras 2 form.
      const config = toKeras2Config(source.keras!.config);
      reference = await tf.models.modelFromJSON({ modelTopology: config as unknown as tf.io.ModelJSON['modelTopology'] });
      setKerasWeights(reference, source.keras!.layerWeights as never);
    } catch (e) {
      return { against, not_run: `tfjs-layers cannot rebuild this config (${e instanceof Error ? e.message.slice(0, 200) : String(e)})` };
    }
    // The Keras model reads what its own input layer reads: our normalised planes, NHWC, or 0..255 values when it rescales itself.
    const rescales = source.preprocessFrom.includes('Rescaling');
    const outputs: number[] = [];
    for (const x of inputs) {
      const nchw = rescales ? x.map((v, i) => v * spec.std[Math.floor(i / (size * size))]! + spec.mean[Math.floor(i / (size * size))]!) : x;
      const input = tf.tidy(() => tf.transpose(tf.tensor4d(nchw, [1, 3, size, size]), [0, 2, 3, 1]));
      const y = reference.predict(input) as tf.Tensor;
      outputs.push(...(y.dataSync() as Float32Array));
      tf.dispose([input, y]);
    }
    reference.dispose();
    return { against, images: inputs.length, ...compare(await runOnnx(candidate, inputs, size), finish(Float32Array.from(outputs))) };
  }
  if (source.kind === 'huggingface') return { against: 'the source (transformers)', not_run: 'no Hugging Face runtime here; the layout is checked in tests against torchvision running the same weights' };
  return { against: 'the source (Keras)', not_run: 'a weights-only file carries no graph to rebuild; the weights load by Keras layer name into the same network' };
}

/** The network our description builds, exported (what an ONNX source is compared as). */
export async function rebuiltOnnx(source: SourceNetwork): Promise<Uint8Array> {
  const model = await buildFromSource(source);
  const bytes = encodeModel(exportToOnnx(model));
  model.dispose();
  return bytes;
}
