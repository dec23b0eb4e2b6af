/**
 * @module Keras HDF5 files, read with h5wasm. Weights-only files (`save_weights`, keras-applications'
 * `*_notop.h5`): root attribute `layer_names`, per layer a group with `weight_names` and one dataset per weight.
 * Whole-model files (`model.save('x.h5')`, tf.keras and Keras 3's legacy format): the same under `model_weights`,
 * the graph in the root attribute `model_config` (tf_keras saving/legacy/hdf5_format.py, saving_utils.py). Weights
 * are always found through `weight_names` (their paths need not follow the layer names: tensorflow#19836), with
 * or without `:0`; a nested model's group lists every inner layer's weights, each named `<inner layer>/<weight>`;
 * attributes over HDF5's header limit are split into `name0`, `name1`, … (load_attributes_from_hdf5_group).
 */
import h5wasm from 'h5wasm/node';
import { SourceError } from './graph.js';
import type { KerasLayerConfig, KerasWeightsOf } from './keras-model.js';
import type { LayerWeights, WeightArray } from './layer-weights.js';

type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

const asStrings = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).map((v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v)));

/** An attribute as strings, joined from its `name0`, `name1`, … chunks when Keras had to split it. */
export function stringsAttribute(group: H5Group, name: string): string[] | null {
  const whole = group.attrs[name];
  if (whole) return asStrings(whole.value);
  const parts: string[] = [];
  for (let i = 0; group.attrs[`${name}${i}`]; i++) parts.push(...asStrings(group.attrs[`${name}${i}`]!.value));
  return parts.length > 0 ? parts : null;
}

/** One layer group's weights: the names `weight_names` lists and their arrays, in that order. */
export interface NamedWeights {
  names: string[];
  arrays: WeightArray[];
}

export interface KerasH5 {
  /** The graph (`model_config`), or null for a weights-only file. */
  modelConfig: KerasLayerConfig | null;
  kerasVersion: string;
  /** Top-level layer (group) name → its weights, in the order `layer_names` lists them. */
  groups: Map<string, NamedWeights>;
}

const readArray = (dataset: H5Dataset): WeightArray => {
  const value = dataset.value;
  const data = value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number>);
  return { shape: [...(dataset.shape ?? [])], data };
};

export async function readKerasH5File(path: string): Promise<KerasH5> {
  await h5wasm.ready;
  let file: InstanceType<typeof h5wasm.File>;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (e) {
    throw new SourceError(`${path}: not a readable HDF5 file (${e instanceof Error ? e.message : String(e)}): cut short?`);
  }
  try {
    return readOpened(file, path);
  } catch (e) {
    // h5wasm reports a damaged file as plain errors ("name not defined") from wherever reading stopped.
    if (e instanceof SourceError) throw e;
    throw new SourceError(`${path}: the HDF5 file cannot be read through (${e instanceof Error ? e.message : String(e)}): cut short or damaged?`);
  } finally {
    file.close();
  }
}

function readOpened(file: InstanceType<typeof h5wasm.File>, path: string): KerasH5 {
  const configText = file.attrs['model_config'] ? asStrings(file.attrs['model_config'].value)[0] : undefined;
  let modelConfig: KerasLayerConfig | null = null;
  if (configText) {
    try {
      modelConfig = JSON.parse(configText) as KerasLayerConfig;
    } catch {
      throw new SourceError(`${path}: its model_config attribute is not JSON`);
    }
  }
  // Whole-model saves keep the weights under /model_weights; weight-only saves at the root.
  const root = (file.get('model_weights') as H5Group | null) ?? file;
  const layerNames = stringsAttribute(root, 'layer_names');
  if (!layerNames) throw new SourceError(`${path} is not a Keras weights file (no layer_names attribute${modelConfig ? ' under model_weights' : ''})`);
  const groups = new Map<string, NamedWeights>();
  for (const layer of layerNames) {
    const group = root.get(layer) as H5Group | null;
    if (!group) throw new SourceError(`${path}: layer "${layer}" is listed in layer_names but has no group (a file cut short?)`);
    // A weightless layer's list is empty (h5py writes an empty array; writers that cannot, one empty name).
    const names = (stringsAttribute(group, 'weight_names') ?? []).filter((n) => n !== '');
    const arrays = names.map((name) => {
      const dataset = group.get(name) as H5Dataset | null;
      if (!dataset) throw new SourceError(`${path}: weight "${layer}/${name}" is listed but missing (a file cut short?)`);
      return readArray(dataset);
    });
    groups.set(layer, { names, arrays });
  }
  const kerasVersion = file.attrs['keras_version'] ? asStrings(file.attrs['keras_version'].value)[0]! : 'unknown';
  return { modelConfig, kerasVersion, groups };
}

/** "conv1_conv/kernel:0" → { layer: "conv1_conv", role: "kernel" } (the last two path parts, `:0` dropped). */
export function weightRole(name: string): { layer: string; role: string } {
  const parts = name.replace(/:\d+$/, '').split('/');
  return { layer: parts.at(-2) ?? '', role: parts.at(-1)! };
}

/**
 * Where a whole-model file keeps a layer's weights: the top-level layer's own group, or (for a layer inside a
 * nested model) the nested model's group, among the weights named after the inner layer.
 */
export function h5WeightsOf(h5: KerasH5, path: string): KerasWeightsOf {
  return (ref) => {
    const top = ref.models[0] ?? ref.name;
    const group = h5.groups.get(top);
    if (!group) throw new SourceError(`${path}: no weights group for layer "${[...ref.models, ref.name].join('/')}"`);
    const roles = new Map<string, WeightArray>();
    group.names.forEach((name, i) => {
      const { layer, role } = weightRole(name);
      // In its own group every weight is the layer's, whatever the variable was called; in a nested model's, those named after it.
      if (ref.models.length === 0 || layer === ref.name) roles.set(role, group.arrays[i]!);
    });
    return roles;
  };
}

/** A weights-only file as our layer names → arrays in Keras order (keras-applications' files use Keras' names). */
export async function readKerasH5(path: string): Promise<LayerWeights> {
  const h5 = await readKerasH5File(path);
  const weights: LayerWeights = new Map();
  for (const [layer, group] of h5.groups) if (group.arrays.length > 0) weights.set(layer, group.arrays);
  return weights;
}
