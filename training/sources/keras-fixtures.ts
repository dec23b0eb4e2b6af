/**
 * @module Test fixtures: a tfjs-layers ResNet (our builder, the recipe's head) written as the Keras files users
 * bring, from the formats' own sources (cited per fact; ../shared/reference/IMPORT-FORMATS.md collects them). The
 * layer configs are tfjs-layers' Keras-2 JSON (`model.toJSON`), which is the format tf.keras writes; the head's
 * layers get the names Keras gives unnamed layers (`global_average_pooling2d`, `dense`, `dense_1`: TFK
 * base_layer.py `_init_set_name`). Never shipped.
 */
import { zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { writeFileSync } from 'node:fs';
import type { tf } from '../tf/backend.js';
import { toSnakeCase } from './keras-v3.js';

type Json = Record<string, unknown>;
export interface LayerJson {
  name: string;
  class_name: string;
  config: Json;
  inbound_nodes: unknown[];
}

/** The recipe head's Keras default names (the tutorial's `GlobalAveragePooling2D()(x)`, `Dense(1024)`, `Dense(N)`). */
const KERAS_NAMES: Record<string, string> = { avg_pool: 'global_average_pooling2d', fc1: 'dense', predictions: 'dense_1', input: 'input_1' };
const rename = (n: string) => KERAS_NAMES[n] ?? n;

/** Keras 2 weight names per layer class, trainable first (TFK Layer.weights): conv kernel, bias; BN γ, β, then moving stats. */
const ROLES: Record<string, string[]> = { Conv2D: ['kernel', 'bias'], BatchNormalization: ['gamma', 'beta', 'moving_mean', 'moving_variance'], Dense: ['kernel', 'bias'] };
const TRAINABLE = new Set(['kernel', 'bias', 'gamma', 'beta']);

/** tfjs' Keras-2 JSON of `model` with Keras' names: class "Functional" (TFK ≥ 2.4 functional.py), layers renamed. */
function functionalJson(model: tf.LayersModel): { config: Json; layers: LayerJson[] } {
  const json = model.toJSON(undefined, false) as unknown as { config: { layers: LayerJson[]; input_layers: unknown[][]; output_layers: unknown[][] } };
  const layers = json.config.layers.map((l) => ({
    ...l,
    name: rename(l.name),
    config: { ...l.config, name: rename(l.name) },
    inbound_nodes: (l.inbound_nodes as unknown[][][]).map((node) => node.map(([n, ...rest]) => [rename(String(n)), ...rest])),
  }));
  const ends = (v: unknown[][]) => v.map(([n, ...rest]) => [rename(String(n)), ...rest]);
  return { config: { name: 'model', layers, input_layers: ends(json.config.input_layers), output_layers: ends(json.config.output_layers) }, layers };
}

/** Keras 3's node form (K3 functional.py `serialize_node`): `{args: [keras tensors], kwargs: {}}`, an Add's inputs as one list. */
function keras3Nodes(layer: LayerJson): unknown[] {
  return (layer.inbound_nodes as unknown[][][]).map((node) => {
    const tensors = node.map(([n]) => ({ class_name: '__keras_tensor__', config: { shape: [null], dtype: 'float32', keras_history: [n, 0, 0] } }));
    return { args: tensors.length > 1 ? [tensors] : tensors, kwargs: {} };
  });
}

/** Each weighted layer's arrays by role, under the Keras name. */
function weightsByLayer(model: tf.LayersModel) {
  const out = new Map<string, Array<{ role: string; shape: number[]; data: Float32Array }>>();
  for (const layer of model.layers) {
    const values = layer.getWeights();
    if (values.length === 0) continue;
    const roles = ROLES[layer.getClassName()]!;
    out.set(rename(layer.name), values.map((v, i) => ({ role: roles[i]!, shape: v.shape as number[], data: v.dataSync() as Float32Array })));
  }
  return out;
}

export interface H5Options {
  /** `functional`: the trunk flattened into the model (keras.io's fine-tuning pattern); `sequential`: Sequential([resnet50, GAP, Dense, Dense]). */
  form: 'functional' | 'sequential';
  /** 2: tf.keras (`:0` weight names, node lists); 3: Keras 3's legacy .h5 (no `:0`, `{args, kwargs}` nodes). */
  keras: 2 | 3;
  /** Split `layer_names` into `layer_names0`, `layer_names1` as Keras does past HDF5's 64 KB header limit. */
  splitLayerNames?: boolean;
  /** Changes the layer configs before they are written (tests of what the reader refuses). */
  editLayers?: (layers: LayerJson[]) => void;
}

/** A whole-model `model.save('x.h5')` file (TFK saving/legacy/hdf5_format.py `save_model_to_hdf5`). */
export async function writeKerasH5Model(path: string, model: tf.LayersModel, o: H5Options) {
  await h5wasm.ready;
  const { config, layers } = functionalJson(model);
  o.editLayers?.(layers);
  const weights = weightsByLayer(model);
  const suffix = o.keras === 2 ? ':0' : '';
  const asNodes = (l: LayerJson) => (o.keras === 3 ? { ...l, inbound_nodes: keras3Nodes(l) } : l);
  let modelConfig: Json;
  let topLayers: string[];
  const groups = new Map<string, Array<{ name: string; shape: number[]; data: Float32Array }>>();
  if (o.form === 'functional') {
    modelConfig = { class_name: 'Functional', config: { ...config, layers: layers.map(asNodes) } };
    topLayers = layers.map((l) => l.name);
    for (const [layer, ws] of weights) groups.set(layer, ws.map((w) => ({ ...w, name: `${layer}/${w.role}${suffix}` })));
  } else {
    // The trunk is the nested model `resnet50` (keras.applications names it so); the head follows in the Sequential.
    const trunkEnd = layers.findIndex((l) => l.name === 'global_average_pooling2d');
    const trunk = layers.slice(0, trunkEnd).map(asNodes);
    const nested = { class_name: 'Functional', name: 'resnet50', config: { name: 'resnet50', layers: trunk, input_layers: [['input_1', 0, 0]], output_layers: [[layers[trunkEnd - 1]!.name, 0, 0]] } };
    const head = layers.slice(trunkEnd).map(({ inbound_nodes: _n, ...l }) => l); // Sequential layers carry no nodes (TFK sequential.py)
    modelConfig = { class_name: 'Sequential', config: { name: 'sequential', layers: [nested, ...head] } };
    topLayers = ['resnet50', ...head.map((l) => l.name)];
    // A nested model's group lists every sub-layer's trainable weights first, then the non-trainable ones (TFK hdf5_format.py).
    const inner = [...weights].filter(([layer]) => trunk.some((l) => l.name === layer));
    const all = inner.flatMap(([layer, ws]) => ws.map((w) => ({ ...w, name: `${layer}/${w.role}${suffix}` })));
    groups.set('resnet50', [...all.filter((w) => TRAINABLE.has(w.role)), ...all.filter((w) => !TRAINABLE.has(w.role))]);
    for (const l of head) if (weights.has(l.name)) groups.set(l.name, weights.get(l.name)!.map((w) => ({ ...w, name: `${l.name}/${w.role}${suffix}` })));
  }
  const f = new h5wasm.File(path, 'w');
  f.create_attribute('keras_version', o.keras === 2 ? '2.13.1' : '3.16.0');
  f.create_attribute('backend', 'tensorflow');
  f.create_attribute('model_config', JSON.stringify(modelConfig));
  // Compiled models also carry training_config (saving_utils.py model_metadata).
  f.create_attribute('training_config', JSON.stringify({ loss: 'categorical_crossentropy', metrics: ['accuracy'], optimizer_config: { class_name: 'Adam', config: { learning_rate: 1e-4 } } }));
  const root = f.create_group('model_weights');
  if (o.splitLayerNames) {
    const half = Math.ceil(topLayers.length / 2);
    root.create_attribute('layer_names0', topLayers.slice(0, half));
    root.create_attribute('layer_names1', topLayers.slice(half));
  } else root.create_attribute('layer_names', topLayers);
  root.create_attribute('backend', 'tensorflow');
  for (const layer of topLayers) {
    const group = root.create_group(layer);
    const ws = groups.get(layer) ?? [];
    group.create_attribute('weight_names', ws.length > 0 ? ws.map((w) => w.name) : ['']);
    if (ws.length === 0) continue;
    // "conv1_conv/kernel:0" makes h5py create the group conv1_conv inside the layer's group.
    for (const w of ws) {
      const [sub, leaf] = [w.name.slice(0, w.name.lastIndexOf('/')), w.name.slice(w.name.lastIndexOf('/') + 1)];
      const parent = (group.get(sub) as InstanceType<typeof h5wasm.Group> | null) ?? group.create_group(sub);
      parent.create_dataset({ name: leaf, data: w.data, shape: w.shape });
    }
  }
  f.close();
}

/** Keras 3's `model.save('x.keras')` (K3 saving/saving_lib.py): config.json, metadata.json, model.weights.h5, zipped. */
export async function writeKerasV3(path: string, model: tf.LayersModel, form: 'functional' | 'sequential') {
  await h5wasm.ready;
  const { config, layers } = functionalJson(model);
  const weights = weightsByLayer(model);
  // K3 serialize_keras_object: module / class_name / config / registered_name / name / inbound_nodes; InputLayer's batch_shape.
  const k3 = (l: LayerJson, withNodes: boolean) => {
    const c = { ...l.config, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null } } as Json;
    if (c.batch_input_shape) {
      c.batch_shape = c.batch_input_shape;
      delete c.batch_input_shape;
    }
    return { module: 'keras.layers', class_name: l.class_name, config: c, registered_name: null, build_config: {}, name: l.name, ...(withNodes ? { inbound_nodes: keras3Nodes(l) } : {}) };
  };
  const trunkEnd = layers.findIndex((l) => l.name === 'global_average_pooling2d');
  const modelConfig =
    form === 'functional'
      ? { module: 'keras', class_name: 'Functional', config: { name: 'functional', trainable: true, layers: layers.map((l) => k3(l, true)), input_layers: config.input_layers, output_layers: config.output_layers }, registered_name: 'Functional' }
      : {
          module: 'keras',
          class_name: 'Sequential',
          config: {
            name: 'sequential',
            layers: [
              { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: layers[0]!.config.batch_input_shape, dtype: 'float32', name: 'input_layer_1' }, registered_name: null },
              { module: 'keras.src.models.functional', class_name: 'Functional', config: { name: 'resnet50', layers: layers.slice(0, trunkEnd).map((l) => k3(l, true)), input_layers: ['input_1', 0, 0], output_layers: [layers[trunkEnd - 1]!.name, 0, 0] }, registered_name: 'Functional', name: 'resnet50' },
              ...layers.slice(trunkEnd).map((l) => k3(l, false)),
            ],
          },
          registered_name: null,
        };
  const h5Path = `${path}.weights.tmp.h5`;
  const f = new h5wasm.File(h5Path, 'w');
  // layers/<snake_case class name, unique in its container>/vars/<i>; vars' `name` attribute (Keras ≥ 3.6).
  const writeContainer = (parent: InstanceType<typeof h5wasm.Group>, members: LayerJson[]) => {
    const used = new Map<string, number>();
    const container = parent.create_group('layers');
    for (const l of members) {
      const base = toSnakeCase(l.class_name);
      const count = used.get(base);
      used.set(base, (count ?? -1) + 1);
      const group = container.create_group(count === undefined ? base : `${base}_${count + 1}`);
      const vars = group.create_group('vars');
      vars.create_attribute('name', l.name);
      (weights.get(l.name) ?? []).forEach((w, i) => vars.create_dataset({ name: String(i), data: w.data, shape: w.shape }));
    }
    return container;
  };
  if (form === 'functional') writeContainer(f, layers);
  else {
    // Sequential's container leaves its InputLayer out; the nested Functional keeps its own (K3 models/sequential.py).
    const used = new Map<string, number>();
    const container = f.create_group('layers');
    const nestedGroup = container.create_group('functional');
    nestedGroup.create_group('vars').create_attribute('name', 'resnet50');
    writeContainer(nestedGroup, layers.slice(0, trunkEnd));
    for (const l of layers.slice(trunkEnd)) {
      const base = toSnakeCase(l.class_name);
      const count = used.get(base);
      used.set(base, (count ?? -1) + 1);
      const vars = container.create_group(count === undefined ? base : `${base}_${count + 1}`).create_group('vars');
      vars.create_attribute('name', l.name);
      (weights.get(l.name) ?? []).forEach((w, i) => vars.create_dataset({ name: String(i), data: w.data, shape: w.shape }));
    }
  }
  f.close();
  const { readFileSync, rmSync } = await import('node:fs');
  const h5 = new Uint8Array(readFileSync(h5Path));
  rmSync(h5Path);
  const text = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  // Python's zipfile defaults: stored, not deflated.
  writeFileSync(path, zipSync({ 'metadata.json': text({ keras_version: '3.16.0', date_saved: '2026-12-07@10:00:00' }), 'config.json': text(modelConfig), 'model.weights.h5': h5 }, { level: 0 }));
}
