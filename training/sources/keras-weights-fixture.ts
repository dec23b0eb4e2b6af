/**
 * Test fixture in the published layout (used by the importer tests, never shipped): a Keras weights .h5 as
 * `save_weights` writes it (`layer_names`, per-layer `weight_names`, datasets at `<layer>/<layer>/kernel:0`),
 * keras-applications' files' layout. Whole-model files: keras-fixtures.ts; torch exports: the real exporter.
 */
import h5wasm from 'h5wasm/node';
import type { tf } from '../tf/backend.js';

const KERAS_SHORT: Record<string, string[]> = { Conv2D: ['kernel', 'bias'], BatchNormalization: ['gamma', 'beta', 'moving_mean', 'moving_variance'], Dense: ['kernel', 'bias'] };

/** Writes `model`'s weights the way Keras' `save_weights(…h5)` lays them out (optionally without some layers). */
export async function writeKerasH5(path: string, model: tf.LayersModel, skip: string[] = []) {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  const layers = model.layers.filter((l) => !skip.includes(l.name));
  f.create_attribute('layer_names', layers.map((l) => l.name));
  f.create_attribute('backend', 'tensorflow');
  f.create_attribute('keras_version', '2.13.1');
  for (const layer of layers) {
    const group = f.create_group(layer.name);
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const short = KERAS_SHORT[layer.getClassName()]!;
    group.create_attribute('weight_names', short.map((s) => `${layer.name}/${s}:0`));
    const inner = group.create_group(layer.name);
    weights.forEach((w, i) => inner.create_dataset({ name: `${short[i]}:0`, data: w.dataSync() as Float32Array, shape: w.shape }));
  }
  f.close();
}
