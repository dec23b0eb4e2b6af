/**
 * @module A model folder's float network back in TensorFlow.js, for what needs gradients (Grad-CAM): the fp32
 * reference ONNX (one of our exports: Keras layer names, BN folded) loaded by name into the Keras-topology
 * ResNet50 with the same head. Imported torchvision graphs are another topology and are refused.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest, type Manifest } from '../../src/core/manifest.js';
import { buildResNet50 } from '../model/resnet50.js';
import { decodeModel } from '../onnx/proto.js';
import type { tf } from '../tf/backend.js';
import { applyLayerWeights } from '../weights/layer-weights.js';
import { readTorchvisionOnnx } from '../weights/torchvision-onnx.js';

export async function loadFloatModel(dir: string, inputSize?: number): Promise<{ model: tf.LayersModel; manifest: Manifest }> {
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  if (!manifest.reference) throw new Error(`${dir}: the manifest names no fp32 reference model (explain needs the float network)`);
  const path = join(dir, manifest.reference.file);
  const nodes = decodeModel(new Uint8Array(await readFile(path))).graph!.node!;
  if (!nodes.some((n) => n.name === 'conv1_conv')) throw new Error(`${path} is not one of our Keras-topology exports (a torchvision graph is another network); explain cannot load it`);
  const head = nodes.some((n) => n.name === 'fc1') ? 'recipe' : 'keras';
  const model = buildResNet50({ inputSize: inputSize ?? manifest.preprocess.width, classes: manifest.labels.length, head });
  const report = applyLayerWeights(model, await readTorchvisionOnnx(path));
  if (report.missing.length > 0) throw new Error(`${path}: no weights for ${report.missing.join(', ')}`);
  return { model, manifest };
}
