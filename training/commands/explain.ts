/**
 * @module `pipeline explain`: Grad-CAM for a model folder's predictions. For each image: `<name>.gradcam.png`
 * (the map over the image) and `<name>.gradcam.json` (layer, class, probability, the map itself), against the
 * predicted class or `--class`. The float model is explained (gradients need it); its answer is the fp32 one.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { loadImageTensor } from '../data/load.js';
import { cutAt, defaultCamLayer, gradCam, toNhwc, type GradCam } from '../explain/gradcam.js';
import { loadFloatModel } from '../explain/float-model.js';
import { overlayPng } from '../explain/overlay.js';
import { writeFileAtomic, writeJsonAtomic } from '../model-folder/files.js';
import { useBackend } from '../tf/backend.js';

export interface ExplainOptions {
  model: string;
  images: string[];
  out: string;
  /** A label to explain instead of the predicted one. */
  className?: string;
  /** Default: conv5_block3_out, or for a small input the last block output at least 4×4 (a 32 px model's conv5 map is 1×1). */
  layer?: string;
  log: (line: string) => void;
}

export async function explainCommand(o: ExplainOptions): Promise<Array<GradCam & { image: string; label: string }>> {
  await useBackend('wasm');
  const { model, manifest } = await loadFloatModel(o.model);
  const classIndex = o.className === undefined ? undefined : manifest.labels.indexOf(o.className);
  if (classIndex === -1) throw new Error(`--class ${o.className}: the model's labels are ${manifest.labels.join(', ')}`);
  const layer = o.layer ?? defaultCamLayer(model);
  const cam = cutAt(model, layer);
  const { width, height } = manifest.preprocess;
  const results = [];
  for (const image of o.images) {
    const input = toNhwc(await loadImageTensor(image, manifest.preprocess), height, width);
    const result = gradCam(cam, input, classIndex);
    input.dispose();
    const name = basename(image, extname(image));
    const label = manifest.labels[result.classIndex]!;
    await writeFileAtomic(join(o.out, `${name}.gradcam.png`), await overlayPng(new Uint8Array(await readFile(image)), result, manifest.preprocess));
    const rows = Array.from({ length: result.height }, (_, y) => Array.from(result.map.subarray(y * result.width, (y + 1) * result.width), (v) => Math.round(v * 1e4) / 1e4));
    await writeJsonAtomic(join(o.out, `${name}.gradcam.json`), { image, layer, class: label, class_index: result.classIndex, probability: result.probabilities[result.classIndex], width: result.width, height: result.height, map: rows });
    o.log(`explain: ${image}: ${label} (${(result.probabilities[result.classIndex]! * 100).toFixed(1)} %), ${layer} ${result.width}×${result.height} → ${join(o.out, `${name}.gradcam.png`)}`);
    results.push({ ...result, image, label });
  }
  return results;
}
