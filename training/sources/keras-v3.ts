/**
 * @module Keras 3's native `.keras` file (keras/src/saving/saving_lib.py): a zip of `config.json` (the model's
 * `serialize_keras_object`), `metadata.json` and `model.weights.h5`. In the weights file a layer's arrays are at
 * `layers/<name>/vars/<i>` where `<name>` is its class name in snake case made unique within its container
 * (`conv2d`, `conv2d_1`, … `_save_container_state`), in the container's order (a Functional model's layers with
 * its InputLayer, a Sequential's without), nested models as `layers/<name>/layers/…`. Since Keras 3.6 each
 * `vars` group carries the layer's real name in its `name` attribute: checked where present. Files written by
 * TF 2.13 say `_layer_checkpoint_dependencies` for `layers`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { SourceError } from './graph.js';
import type { KerasLayerConfig, KerasWeightsOf } from './keras-model.js';
import type { WeightArray } from './layer-weights.js';

type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

/** keras/src/utils/naming.py `to_snake_case`. */
export const toSnakeCase = (name: string) =>
  name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();

const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);

/** The weights-file path of every layer: "outer/inner" → "layers/functional/layers/conv2d_3". */
export function containerPaths(model: KerasLayerConfig): Map<string, string> {
  const paths = new Map<string, string>();
  const walk = (m: KerasLayerConfig, prefix: string, qualified: string[]) => {
    const used = new Map<string, number>();
    const layers = (m.config.layers as KerasLayerConfig[]).filter((l) => !(m.class_name === 'Sequential' && l.class_name === 'InputLayer'));
    for (const l of layers) {
      const base = toSnakeCase(l.class_name === 'Model' ? 'Functional' : l.class_name);
      const count = used.get(base);
      used.set(base, (count ?? -1) + 1);
      const unique = count === undefined ? base : `${base}_${count + 1}`;
      const name = (l.config.name as string | undefined) ?? l.name ?? unique;
      const path = `${prefix}/${unique}`;
      paths.set([...qualified, name].join('/'), path);
      if (MODEL_CLASSES.has(l.class_name) && Array.isArray(l.config.layers)) walk(l, `${path}/layers`, [...qualified, name]);
    }
  };
  walk(model, 'layers', []);
  return paths;
}

/** Roles of a layer's `vars/<i>`, in `_trainable_variables + _non_trainable_variables` order. */
function rolesOf(className: string, config: Record<string, unknown>): string[] {
  if (className === 'Conv2D' || className === 'Dense') return config.use_bias === false ? ['kernel'] : ['kernel', 'bias'];
  if (className === 'BatchNormalization') return [...(config.scale === false ? [] : ['gamma']), ...(config.center === false ? [] : ['beta']), 'moving_mean', 'moving_variance'];
  return [];
}

export interface KerasV3 {
  modelConfig: KerasLayerConfig;
  kerasVersion: string;
  weightsOf: KerasWeightsOf;
  close(): void;
}

export async function readKerasV3(path: string): Promise<KerasV3> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(await readFile(path)));
  } catch (e) {
    throw new SourceError(`${path}: not a readable zip (${e instanceof Error ? e.message : String(e)}): a .keras file cut short?`);
  }
  if (!entries['config.json']) throw new SourceError(`${path}: no config.json in the .keras zip`);
  if (!entries['model.weights.h5']) throw new SourceError(`${path}: the .keras zip has no model.weights.h5 (${Object.keys(entries).filter((k) => k.startsWith('model.weights')).join(', ') || 'no weights at all'}); save it with Keras' default weights format`);
  let modelConfig: KerasLayerConfig;
  let kerasVersion = 'unknown';
  try {
    modelConfig = JSON.parse(new TextDecoder().decode(entries['config.json'])) as KerasLayerConfig;
    if (entries['metadata.json']) kerasVersion = String((JSON.parse(new TextDecoder().decode(entries['metadata.json'])) as { keras_version?: string }).keras_version ?? 'unknown');
  } catch {
    throw new SourceError(`${path}: config.json or metadata.json is not JSON`);
  }
  // h5wasm reads files by path: the weights go to a private temp folder for as long as they are read.
  const dir = mkdtempSync(join(tmpdir(), 'keras-v3-'));
  const weightsPath = join(dir, 'model.weights.h5');
  writeFileSync(weightsPath, entries['model.weights.h5']);
  await h5wasm.ready;
  let file: InstanceType<typeof h5wasm.File>;
  try {
    file = new h5wasm.File(weightsPath, 'r');
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new SourceError(`${path}: model.weights.h5 is not readable HDF5 (${e instanceof Error ? e.message : String(e)})`);
  }
  const paths = containerPaths(modelConfig);
  const group = (p: string) => (file.get(p) as H5Group | null) ?? (file.get(p.replace(/(^|\/)layers\//g, '$1_layer_checkpoint_dependencies/')) as H5Group | null);
  const weightsOf: KerasWeightsOf = (ref) => {
    const qualified = [...ref.models, ref.name].join('/');
    const where = paths.get(qualified);
    const vars = where ? group(`${where}/vars`) : null;
    if (!where || !vars) throw new SourceError(`${path}: no weights for layer "${qualified}" (expected at ${where ?? '?'}/vars in model.weights.h5)`);
    const stored = vars.attrs['name']?.value;
    if (stored !== undefined && String(stored) !== ref.name) throw new SourceError(`${path}: ${where}/vars is named "${String(stored)}", expected layer "${ref.name}": the weights file does not follow config.json`);
    const roles = new Map<string, WeightArray>();
    rolesOf(ref.className, ref.config).forEach((role, i) => {
      const dataset = vars.get(String(i)) as H5Dataset | null;
      if (!dataset) throw new SourceError(`${path}: ${where}/vars/${i} (${ref.name}'s ${role}) is missing`);
      const value = dataset.value;
      roles.set(role, { shape: [...(dataset.shape ?? [])], data: value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number>) });
    });
    return roles;
  };
  return {
    modelConfig,
    kerasVersion,
    weightsOf,
    close: () => {
      file.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
