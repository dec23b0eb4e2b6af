/**
 * Does Grad-CAM point at the shape? On drawn shapes no build or choice used (seed 20261204), the default model's
 * map for its predicted class is upsampled to the image and its heat inside the shape's own coverage mask is
 * measured: share = Σ heat·mask / Σ heat. The baseline is the same measure with the maps shuffled across images
 * (a map of another image against this image's mask): what a map that knows nothing about where the shape is
 * scores. Reported for the explain default layer (conv3_block4_out: the 32 px model's conv5 map is 1×1) and for
 * conv2_block3_out (8×8).
 * Usage: npm run model, then npx tsx bench/experiments/pipeline/gradcam-shapes.ts [--json bench/results/gradcam-shapes.json]
 */
import { cpus } from 'node:os';
import { preprocessImage } from '../../../src/core/preprocess.js';
import { seededRandom } from '../../../training/data/random.js';
import { drawShape, SHAPE_CLASSES } from '../../../training/data/shapes.js';
import { cutAt, defaultCamLayer, gradCam, resizeMap, toNhwc } from '../../../training/explain/gradcam.js';
import { loadFloatModel } from '../../../training/explain/float-model.js';
import { writeJsonAtomic } from '../../../training/model-folder/files.js';
import { useBackend } from '../../../training/tf/backend.js';

const SEED = 20261204;
const PER_CLASS = 50;
const SIZE = 64;
await useBackend('wasm');
const { model, manifest } = await loadFloatModel('model');
const random = seededRandom(SEED);
const shapes = SHAPE_CLASSES.flatMap((label) => Array.from({ length: PER_CLASS }, () => drawShape(label, SIZE, random, { withMask: true })));
const share = (heat: Float32Array, mask: Float32Array) => {
  let inside = 0;
  let total = 0;
  heat.forEach((h, i) => ((inside += h * mask[i]!), (total += h)));
  return total > 0 ? inside / total : null;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const layers: Record<string, unknown> = {};
for (const layer of [defaultCamLayer(model), 'conv2_block3_out']) {
  const cam = cutAt(model, layer);
  const heats: Float32Array[] = [];
  let correct = 0;
  for (const s of shapes) {
    const planar = preprocessImage({ width: SIZE, height: SIZE, channels: 4, data: s.rgba, orientation: 1 }, manifest.preprocess);
    const input = toNhwc(planar, manifest.preprocess.height, manifest.preprocess.width);
    const result = gradCam(cam, input);
    input.dispose();
    if (manifest.labels[result.classIndex] === s.label) correct++;
    heats.push(resizeMap(result.map, result.width, result.height, SIZE, SIZE));
  }
  const own = shapes.map((s, i) => share(heats[i]!, s.mask!));
  // A derangement: each mask meets another image's map.
  const order = shapes.map((_, i) => i);
  const shuffle = seededRandom(SEED + 1);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(shuffle.next() * i); // j < i: Sattolo's algorithm, one cycle, no fixed point
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const shuffled = shapes.map((s, i) => share(heats[order[i]!]!, s.mask!));
  const pairs = own.map((o, i) => [o, shuffled[i]] as const).filter((p): p is readonly [number, number] => p[0] !== null && p[1] !== null);
  const maskArea = mean(shapes.map((s) => s.mask!.reduce((a, b) => a + b, 0) / (SIZE * SIZE)));
  layers[layer] = {
    map_size: `${(cam.head.outputs[0]!.shape[2] as number)}×${(cam.head.outputs[0]!.shape[1] as number)}`,
    images: shapes.length,
    scored: pairs.length,
    predicted_correctly: correct,
    heat_inside_shape: Math.round(mean(pairs.map((p) => p[0])) * 1000) / 1000,
    shuffled_baseline: Math.round(mean(pairs.map((p) => p[1])) * 1000) / 1000,
    images_above_their_baseline: pairs.filter((p) => p[0] > p[1]).length,
    mean_shape_area: Math.round(maskArea * 1000) / 1000,
  };
  console.log(layer, JSON.stringify(layers[layer]));
}
const result = { command: 'npx tsx bench/experiments/pipeline/gradcam-shapes.ts --json bench/results/gradcam-shapes.json', date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length }, model: `${manifest.name}@${manifest.version}`, shapes: `${PER_CLASS} per class at ${SIZE} px, seed ${SEED} (used by no build or choice)`, class_explained: 'predicted', layers };
const json = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
if (json) await writeJsonAtomic(json, result);
