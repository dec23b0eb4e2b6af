/** @module `--weights imagenet|none|FILE`: where a training run's starting weights come from. */
import { extname } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { fetchPinned, KERAS_RESNET50_NOTOP } from './download.js';
import { readKerasH5 } from './keras-h5.js';
import { applyLayerWeights, type ApplyReport } from './layer-weights.js';
import { readTorchvisionOnnx } from './torchvision-onnx.js';

export async function loadPretrained(model: tf.LayersModel, weights: string, log: (s: string) => void): Promise<ApplyReport | null> {
  if (weights === 'none') return null;
  const path = weights === 'imagenet' ? await fetchPinned(KERAS_RESNET50_NOTOP, undefined, log) : weights;
  const ext = extname(path).toLowerCase();
  const layers = ext === '.onnx' ? await readTorchvisionOnnx(path) : ext === '.h5' || ext === '.hdf5' || ext === '.keras' ? await readKerasH5(path) : null;
  if (!layers) throw new Error(`--weights ${weights}: expected imagenet, none, a Keras .h5 or a ResNet50 .onnx`);
  // A torchvision classifier head (1000 ImageNet classes) never fits the new one: keep the trunk only.
  if (layers.get('predictions')?.[0]?.shape.join() !== model.getLayer('predictions').weights[0]!.shape.join()) layers.delete('predictions');
  const report = applyLayerWeights(model, layers);
  const trunkMissing = report.missing.filter((n) => !['fc1', 'predictions'].includes(n));
  if (trunkMissing.length > 0) throw new Error(`--weights ${weights}: no weights for ${trunkMissing.length} trunk layers (${trunkMissing.slice(0, 3).join(', ')}…)`);
  log(`weights: ${report.loaded.length} layers loaded from ${path}${report.unused.length ? `, ${report.unused.length} unused` : ''}`);
  return report;
}
