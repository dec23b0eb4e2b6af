/**
 * @module A Keras model config → the source graph recognize.ts reads. Both serialisations: Keras 2 / tf.keras
 * (`inbound_nodes: [[[name, node, tensor, kwargs], …]]`, tf_keras engine/node.py) and Keras 3
 * (`inbound_nodes: [{args: [{class_name: "__keras_tensor__", config: {keras_history: [name, node, tensor]}}], kwargs}]`,
 * keras/src/models/functional.py). Functional (class "Functional", or "Model" in older files) and Sequential
 * models; a nested model (`Sequential([ResNet50(include_top=False), …])`, or `base(inputs)` in a Functional)
 * is inlined with its layers named `outer/inner`. Where each layer's weights are is the reader's business
 * (`weightsOf`): this module only reads configs.
 */
import { SourceError, type Op, type OpGraph, type OpNode, type Pads } from './graph.js';
import type { WeightArray } from './layer-weights.js';

export interface KerasLayerConfig {
  class_name: string;
  config: Record<string, unknown>;
  name?: string;
  inbound_nodes?: unknown[];
}

/** A layer the reader is asked weights for: its name, the nested models above it (outermost first), its config. */
export interface KerasLayerRef {
  name: string;
  models: string[];
  className: string;
  config: Record<string, unknown>;
}

/** The reader's answer: a layer's arrays by role (`kernel`, `bias`, `gamma`, `beta`, `moving_mean`, `moving_variance`). */
export type KerasWeightsOf = (layer: KerasLayerRef) => Map<string, WeightArray>;

const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);
const isModel = (l: KerasLayerConfig) => MODEL_CLASSES.has(l.class_name) && Array.isArray((l.config as { layers?: unknown }).layers);
const layerName = (l: KerasLayerConfig) => (l.config.name as string | undefined) ?? l.name ?? '';

/** The layers a layer call reads: Keras 2's `[[name, node, tensor, kwargs], …]` or Keras 3's `{args, kwargs}`. */
export function inboundLayers(inbound: unknown[] | undefined, layer: string): string[] {
  if (!inbound || inbound.length === 0) return [];
  if (inbound.length > 1) throw new SourceError(`layer "${layer}" is called ${inbound.length} times; shared layers are not a ResNet's`);
  const call = inbound[0];
  if (Array.isArray(call)) return call.map((t) => (Array.isArray(t) ? String(t[0]) : String(t)));
  const names: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as { class_name?: string; config?: { keras_history?: unknown[] } };
      if (o.class_name === '__keras_tensor__' && o.config?.keras_history) names.push(String(o.config.keras_history[0]));
      else Object.values(o).forEach(walk);
    }
  };
  walk((call as { args?: unknown }).args ?? call);
  return names;
}

/** The first name of Keras 2's `[[name, 0, 0]]`, Keras 3's `[name, 0, 0]` or `[[name, 0, 0]]`. */
function endpoint(v: unknown, what: string, model: string): string {
  const list = v as unknown[];
  if (!Array.isArray(list) || list.length === 0) throw new SourceError(`model "${model}": no ${what}`);
  if (Array.isArray(list[0])) {
    if (list.length > 1) throw new SourceError(`model "${model}": ${list.length} ${what}; a classifier has one`);
    return String((list[0] as unknown[])[0]);
  }
  return String(list[0]);
}

const pair = (v: unknown, fallback: [number, number]): [number, number] => (v === undefined || v === null ? fallback : Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);

function zeroPads(v: unknown): Pads {
  // ZeroPadding2D: p, (ph, pw) or ((top, bottom), (left, right)).
  if (!Array.isArray(v)) return [Number(v), Number(v), Number(v), Number(v)];
  if (!Array.isArray(v[0])) return [Number(v[0]), Number(v[1]), Number(v[0]), Number(v[1])];
  const [[t, b], [l, r]] = v as number[][];
  return [t!, l!, b!, r!];
}

const activationName = (v: unknown) => (typeof v === 'string' ? v : ((v as { config?: { name?: string }; class_name?: string })?.class_name ?? 'linear').toLowerCase());

/** Builds the graph of `model` (`{class_name, config}`, as `model_config` or config.json hold it). */
export function kerasGraph(model: KerasLayerConfig, weightsOf: KerasWeightsOf): { graph: OpGraph; inputSize: number | null } {
  const nodes = new Map<string, OpNode>();
  let inputSize: number | null = null;
  const add = (name: string, sourceType: string, op: Op, inputs: string[]) => {
    nodes.set(name, { name, sourceType, op, inputs });
    return name;
  };

  /** Adds one (non-model) layer reading `inputs`; returns the node holding its output. */
  const addLayer = (l: KerasLayerConfig, qualified: string, models: string[], inputs: string[]): string => {
    const c = l.config;
    const type = l.class_name;
    const weights = () => weightsOf({ name: layerName(l), models, className: type, config: c });
    const need = (w: Map<string, WeightArray>, role: string) => {
      const a = w.get(role);
      if (!a) throw new SourceError(`layer "${qualified}" (${type}): no "${role}" weights in the file`);
      return a;
    };
    const withActivation = (name: string) => {
      const act = activationName(c.activation);
      if (act === 'linear' || act === undefined) return name;
      if (act !== 'relu' && act !== 'softmax') throw new SourceError(`layer "${qualified}": activation "${act}"; a ResNet uses relu and softmax`);
      return add(`${qualified}/${act}`, type, { kind: act }, [name]);
    };
    if ((c.data_format ?? 'channels_last') !== 'channels_last') throw new SourceError(`layer "${qualified}": data_format ${String(c.data_format)}; Keras models here are channels_last`);
    switch (type) {
      case 'InputLayer': {
        const shape = (c.batch_input_shape ?? c.batch_shape) as Array<number | null> | undefined;
        if (shape && shape.length === 4 && shape[3] !== 3) throw new SourceError(`input "${qualified}" has ${shape[3]} channels; a colour image has 3`);
        if (shape?.[1] && shape[1] === shape[2]) inputSize ??= shape[1];
        return add(qualified, type, { kind: 'input' }, []);
      }
      case 'ZeroPadding2D':
        return add(qualified, type, { kind: 'pad', pads: zeroPads(c.padding) }, inputs);
      case 'Conv2D': {
        if (pair(c.dilation_rate, [1, 1]).some((d) => d !== 1) || Number(c.groups ?? 1) !== 1) throw new SourceError(`layer "${qualified}": dilated or grouped; not a ResNet convolution`);
        const w = weights();
        const kernel = need(w, 'kernel');
        const padding = String(c.padding ?? 'valid');
        if (padding !== 'valid' && padding !== 'same') throw new SourceError(`layer "${qualified}": padding "${padding}"`);
        const op: Op = { kind: 'conv', kernel: pair(c.kernel_size, [1, 1]), stride: pair(c.strides, [1, 1]), pads: padding === 'same' ? 'same' : [0, 0, 0, 0], weight: kernel, ...(c.use_bias === false ? {} : { bias: need(w, 'bias').data }) };
        return withActivation(add(qualified, type, op, inputs));
      }
      case 'BatchNormalization': {
        const axis = Array.isArray(c.axis) ? (c.axis as number[]) : [Number(c.axis ?? -1)];
        if (axis.length !== 1 || ![-1, 3, 1].includes(axis[0]!)) throw new SourceError(`layer "${qualified}": BatchNormalization over axis ${JSON.stringify(c.axis)}; channels_last BN is over the last axis`);
        const w = weights();
        const mean = need(w, 'moving_mean').data;
        const n = mean.length;
        const op: Op = { kind: 'batch-norm', gamma: c.scale === false ? new Float32Array(n).fill(1) : need(w, 'gamma').data, beta: c.center === false ? new Float32Array(n) : need(w, 'beta').data, mean, variance: need(w, 'moving_variance').data, epsilon: Number(c.epsilon ?? 1e-3) };
        return add(qualified, type, op, inputs);
      }
      case 'Activation': {
        const act = activationName(c.activation);
        if (act === 'linear') return add(qualified, type, { kind: 'identity' }, inputs);
        if (act !== 'relu' && act !== 'softmax') throw new SourceError(`layer "${qualified}": activation "${act}"; a ResNet uses relu and softmax`);
        return add(qualified, type, { kind: act }, inputs);
      }
      case 'ReLU':
        if (c.max_value != null || Number(c.negative_slope ?? 0) !== 0 || Number(c.threshold ?? 0) !== 0) throw new SourceError(`layer "${qualified}": a ReLU with max_value, negative_slope or threshold`);
        return add(qualified, type, { kind: 'relu' }, inputs);
      case 'Softmax':
        return add(qualified, type, { kind: 'softmax' }, inputs);
      case 'MaxPooling2D': {
        const size = pair(c.pool_size, [2, 2]);
        const padding = String(c.padding ?? 'valid');
        return add(qualified, type, { kind: 'max-pool', kernel: size, stride: pair(c.strides, size), pads: padding === 'same' ? 'same' : [0, 0, 0, 0] }, inputs);
      }
      case 'Add':
        return add(qualified, type, { kind: 'add' }, inputs);
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D':
        return add(qualified, type, { kind: 'global-pool', mode: type === 'GlobalAveragePooling2D' ? 'avg' : 'max' }, inputs);
      case 'Flatten':
        return add(qualified, type, { kind: 'flatten', order: 'hwc' }, inputs);
      case 'Dense': {
        const w = weights();
        const kernel = need(w, 'kernel');
        const op: Op = { kind: 'dense', weight: kernel, ...(c.use_bias === false ? {} : { bias: need(w, 'bias').data }) };
        return withActivation(add(qualified, type, op, inputs));
      }
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianDropout':
      case 'GaussianNoise':
      case 'AlphaDropout':
        return add(qualified, type, { kind: 'dropout', rate: Number(c.rate ?? c.stddev ?? 0) }, inputs);
      // Augmentation layers (keras.io's transfer-learning example puts them in the model) do nothing at inference.
      case 'RandomFlip':
      case 'RandomRotation':
      case 'RandomZoom':
      case 'RandomTranslation':
      case 'RandomContrast':
      case 'RandomBrightness':
        return add(qualified, type, { kind: 'identity' }, inputs);
      case 'RandomCrop':
        throw new SourceError(`layer "${qualified}": RandomCrop centre-crops at inference; save the model without it and give the crop with --crop-pct`);
      case 'Rescaling':
        if (Array.isArray(c.scale) || Array.isArray(c.offset)) throw new SourceError(`layer "${qualified}": Rescaling per channel; give the preprocessing with flags instead`);
        return add(qualified, type, { kind: 'rescale', scale: Number(c.scale), offset: Number(c.offset ?? 0) }, inputs);
      default:
        throw new SourceError(`layer "${qualified}" of type ${type}: not a layer ResNet classifiers are built from (Conv2D, BatchNormalization, Activation, ZeroPadding2D, MaxPooling2D, Add, GlobalAveragePooling2D, Flatten, Dense, Dropout)${type === 'TFOpLambda' || type === 'Lambda' ? '; preprocessing written as Python operations inside the model cannot be read: save the model without it and give the preprocessing with flags' : ''}`);
    }
  };

  /** Adds a model's layers (nested ones inlined); `input` is the node feeding its InputLayer (none at the top). Returns its output node. */
  const addModel = (m: KerasLayerConfig, models: string[], input: string | null): string => {
    const cfg = m.config as { name?: string; layers: KerasLayerConfig[]; input_layers?: unknown; output_layers?: unknown };
    const modelName = layerName(m) || 'model';
    const prefix = models.length > 0 ? `${models.join('/')}/` : '';
    const outputOf = new Map<string, string>(); // layer name (in this model) → node holding its output
    const inner = (l: KerasLayerConfig, inputs: string[]): string => {
      const name = layerName(l);
      if (isModel(l)) return addModel(l, [...models, name], inputs[0] ?? null);
      if (l.class_name === 'InputLayer' && input !== null) {
        // A nested model's own input: the outer tensor flows through it (its declared size still counts).
        const shape = (l.config.batch_input_shape ?? l.config.batch_shape) as Array<number | null> | undefined;
        if (shape?.[1] && shape[1] === shape[2]) inputSize ??= shape[1];
        return add(`${prefix}${name}`, 'InputLayer', { kind: 'identity' }, [input]);
      }
      return addLayer(l, `${prefix}${name}`, models, inputs);
    };
    if (m.class_name === 'Sequential') {
      let previous = input;
      for (const l of cfg.layers) {
        if (l.class_name === 'InputLayer' && previous === null) {
          previous = addLayer(l, `${prefix}${layerName(l)}`, models, []);
          continue;
        }
        if (previous === null) {
          // A Sequential without an InputLayer config: its first layer declares the input shape.
          const shape = (l.config.batch_input_shape ?? l.config.batch_shape) as Array<number | null> | undefined;
          if (shape?.[1] && shape[1] === shape[2]) inputSize ??= shape[1];
          previous = add(`${prefix}input`, 'InputLayer', { kind: 'input' }, []);
        }
        previous = inner(l, [previous]);
      }
      if (previous === null) throw new SourceError(`model "${modelName}": no layers`);
      return previous;
    }
    for (const l of cfg.layers) {
      const name = layerName(l);
      const from = inboundLayers(l.inbound_nodes, name).map((n) => {
        const node = outputOf.get(n);
        if (!node) throw new SourceError(`layer "${prefix}${name}" reads "${n}", which comes later or not at all in model "${modelName}"`);
        return node;
      });
      outputOf.set(name, inner(l, from));
    }
    const out = outputOf.get(endpoint(cfg.output_layers, 'output layers', modelName));
    if (!out) throw new SourceError(`model "${modelName}": its output layer is not among its layers`);
    endpoint(cfg.input_layers, 'input layers', modelName);
    return out;
  };

  if (!isModel(model)) throw new SourceError(`the model config is a ${model.class_name}, not a Functional or Sequential model`);
  const output = addModel(model, [], null);
  const inputs = [...nodes.values()].filter((n) => n.op.kind === 'input');
  if (inputs.length !== 1) throw new SourceError(`${inputs.length} inputs; a classifier has one image input`);
  return { graph: { nodes, input: inputs[0]!.name, output }, inputSize };
}
