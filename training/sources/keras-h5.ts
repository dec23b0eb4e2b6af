/**
 * @module Keras HDF5 weight files (`model.save_weights` / keras-applications' `*_notop.h5`), read with h5wasm:
 * root attribute `layer_names`; per layer a group with attribute `weight_names` ("conv1_conv/kernel:0", …)
 * and one dataset per weight at `<layer>/<weight name>`.
 */
import h5wasm from 'h5wasm/node';
import type { LayerWeights } from './layer-weights.js';

type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

const asStrings = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).map((v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v)));

export async function readKerasH5(path: string): Promise<LayerWeights> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'r');
  try {
    // Whole-model saves keep the weights under /model_weights; weight-only saves at the root.
    const root = (file.get('model_weights') as H5Group | null) ?? file;
    const layerNames = root.attrs['layer_names'];
    if (!layerNames) throw new Error(`${path} is not a Keras weights file (no layer_names attribute)`);
    const weights: LayerWeights = new Map();
    for (const layer of asStrings(layerNames.value)) {
      const group = root.get(layer) as H5Group | null;
      if (!group) throw new Error(`${path}: layer ${layer} is listed but has no group`);
      const names = group.attrs['weight_names'];
      const list = names ? asStrings(names.value) : [];
      if (list.length === 0) continue;
      weights.set(
        layer,
        list.map((name) => {
          const dataset = group.get(name) as H5Dataset | null;
          if (!dataset) throw new Error(`${path}: weight ${layer}/${name} is missing`);
          const value = dataset.value;
          const data = value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number>);
          return { shape: [...(dataset.shape ?? [])], data };
        }),
      );
    }
    return weights;
  } finally {
    file.close();
  }
}
