/**
 * @module A model folder's float network back in TensorFlow.js, for what needs gradients (Grad-CAM): the fp32
 * reference ONNX (one of our exports: Keras layer names, BN folded) loaded by name into the Keras-topology
 * ResNet50 with the same head. Imported torchvision graphs are another topology and are refused.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest, type Manifest } from '../../src/core/manifest.js';
import { buildResNet50, RESNET_DEPTHS, STAGE_BLOCKS, type ResNetDepth } from '../network/resnet.js';
import { decodeModel } from '../onnx/proto.js';
import type { tf } from '../tf/backend.js';
import { applyLayerWeights } from '../sources/layer-weights.js';
import { readTorchvisionOnnx } from '../sources/torchvision-onnx.js';

/** The depth whose stage tables match the blocks named in an export (ResNet50's conv4 has 6, 101's 23, 152's 36). */
export function depthOf(names: string[]): ResNetDepth {
  const blocks = (stage: string) => Math.max(0, ...names.map((n) => Number(new RegExp(`^${stage}_block(\\d+)_`).exec(n)?.[1] ?? 0)));
  const found = RESNET_DEPTHS.find((d) => STAGE_BLOCKS[d][1] === blocks('conv3') && STAGE_BLOCKS[d][2] === blocks('conv4'));
  if (!found) throw new Error(`an export with ${blocks('conv3')} conv3 and ${blocks('conv4')} conv4 blocks is no ResNet50/101/152`);
  return found;
}

export async function loadFloatModel(dir: string, inputSize?: number): Promise<{ model: tf.LayersModel; manifest: Manifest }> {
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  if (!manifest.reference) throw new Error(`${dir}: the manifest names no fp32 reference model (explain needs the float network)`);
  const path = join(dir, manifest.reference.file);
  const nodes = decodeModel(new Uint8Array(await readFile(path))).graph!.node!;
  if (!nodes.some((n) => n.name === 'conv1_conv')) throw new Error(`${path} is not one of our Keras-topology exports (a torchvision graph is another network); explain cannot load it`);
  const head = nodes.some((n) => n.name === 'fc1') ? 'recipe' : 'keras';
  const model = buildResNet50({ inputSize: inputSize ?? manifest.preprocess.width, classes: manifest.labels.length, head, depth: depthOf(nodes.map((n) => n.name ?? '')) });
  const report = applyLayerWeights(model, await readTorchvisionOnnx(path));
  if (report.missing.length > 0) throw new Error(`${path}: no weights for ${report.missing.join(', ')}`);
  return { model, manifest };
}
