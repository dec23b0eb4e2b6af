/** @module Pretrained weights as Keras layer name → weight arrays (in the layer's own order), applied by name. */
import * as tf from '@tensorflow/tfjs';

export interface WeightArray {
  shape: number[];
  data: Float32Array;
}

/** Keras layer name → its weights, in Keras order (conv: kernel, bias; BN: γ, β, moving mean, moving variance). */
export type LayerWeights = Map<string, WeightArray[]>;

export interface ApplyReport {
  loaded: string[];
  /** Model layers with weights that the file does not have (e.g. the new head on a no-top file). */
  missing: string[];
  /** File layers the model does not have. */
  unused: string[];
}

/** Sets every layer found in `weights` (shapes must match exactly) and reports what was and was not loaded. */
export function applyLayerWeights(model: tf.LayersModel, weights: LayerWeights): ApplyReport {
  const report: ApplyReport = { loaded: [], missing: [], unused: [] };
  const names = new Set(model.layers.map((l) => l.name));
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const given = weights.get(layer.name);
    if (!given) {
      report.missing.push(layer.name);
      continue;
    }
    if (given.length !== layer.weights.length) throw new Error(`weights for ${layer.name}: expected ${layer.weights.length} arrays, got ${given.length}`);
    layer.weights.forEach((w, i) => {
      const want = w.shape.join('×');
      const got = given[i]!.shape.join('×');
      if (want !== got) throw new Error(`weights for ${layer.name} (${w.originalName}): expected shape ${want}, got ${got}`);
    });
    const tensors = given.map((g) => tf.tensor(g.data, g.shape));
    layer.setWeights(tensors);
    tf.dispose(tensors);
    report.loaded.push(layer.name);
  }
  for (const name of weights.keys()) if (!names.has(name)) report.unused.push(name);
  return report;
}
