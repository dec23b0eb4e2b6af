/**
 * @module A model folder's float network back in TensorFlow.js, for what needs gradients (Grad-CAM): the fp32
 * reference ONNX (our export, or an imported torchvision, timm or Keras graph) read as the network it is
 * (training/sources) and built from its description, weights by layer name.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest, type Manifest } from '../../src/core/manifest.js';
import { RESNET_DEPTHS, STAGE_BLOCKS, type ResNetDepth } from '../network/description.js';
import { buildFromSource } from '../sources/reference-check.js';
import { readSource } from '../sources/source.js';
import type { tf } from '../tf/backend.js';

/** The depth whose stage tables match the blocks named in a network (ResNet50's conv4 has 6, 101's 23, 152's 36). */
export function depthOf(names: string[]): ResNetDepth {
  const blocks = (stage: string) => Math.max(0, ...names.map((n) => Number(new RegExp(`^${stage}_block(\\d+)_`).exec(n)?.[1] ?? 0)));
  const found = RESNET_DEPTHS.find((d) => STAGE_BLOCKS[d][1] === blocks('conv3') && STAGE_BLOCKS[d][2] === blocks('conv4'));
  if (!found) throw new Error(`an export with ${blocks('conv3')} conv3 and ${blocks('conv4')} conv4 blocks is no ResNet50/101/152`);
  return found;
}

export async function loadFloatModel(dir: string, inputSize?: number): Promise<{ model: tf.LayersModel; manifest: Manifest }> {
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  if (!manifest.reference) throw new Error(`${dir}: the manifest names no fp32 reference model (explain needs the float network)`);
  const source = await readSource(join(dir, manifest.reference.file));
  const size = inputSize ?? manifest.preprocess.width;
  return { model: await buildFromSource({ ...source, description: { ...source.description, inputSize: size } }), manifest };
}
