/**
 * `npx tsx bench/experiments/default-model/svg-contrast-accuracy.ts --model model/resnet50-shapes-int8.onnx --data .cache/default-model/<key>/shapes/svg`:
 * top-1 of a model on the librsvg-drawn held-out shapes, split by how far the shape's colour is from its
 * background in luminance. The SVG documents are re-drawn (`svgShapeSet`, the build's seed) to read each
 * image's fill and background colours.
 */
import { join } from 'node:path';
import { svgShapeSet } from '../../../training/data/svg-shapes.js';
import { SHAPE_CLASSES } from '../../../training/data/shapes.js';
import { loadImageTensor } from '../../../training/data/load.js';
import { FULL_RECIPE, svgSetSeed } from '../../../training/default-model/recipe.js';
import { caffePreprocess } from '../../../src/core/preprocess-spec.js';
import { predictAll } from '../../../training/evaluate/evaluate.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  if (i < 0) throw new Error(`missing ${name}`);
  return process.argv[i + 1]!;
};
const [model, dir] = [arg('--model'), arg('--data')];
const { svgPerClass, inputSize } = FULL_RECIPE;
const luminance = (hex: string) => {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return 0.299 * r! + 0.587 * g! + 0.114 * b!;
};

const images: Array<{ label: number; gap: number; path: string }> = [];
for (const { label, file, svg } of svgShapeSet(svgPerClass, svgSetSeed(FULL_RECIPE))) {
  const fills = [...svg.matchAll(/fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]!);
  const stops = [...svg.matchAll(/stop-color="(#[0-9a-f]{6})"/g)].map((m) => m[1]!);
  const background = stops.length > 0 ? stops : [fills[0]!];
  const backgroundLuminance = background.reduce((sum, c) => sum + luminance(c), 0) / background.length;
  const gap = Math.abs(luminance(fills.at(-1)!) - backgroundLuminance);
  images.push({ label: SHAPE_CLASSES.indexOf(label), gap, path: join(dir, file) });
}
const spec = caffePreprocess(inputSize, inputSize);
const tensors = await Promise.all(images.map((image) => loadImageTensor(image.path, spec)));
const { predicted } = await predictAll(model, tensors, spec);
for (const [name, lo, hi] of [['luminance gap < 30', 0, 30], ['30–60', 30, 60], ['≥ 60', 60, 256], ['all', 0, 256]] as const) {
  const members = images.map((image, i) => ({ image, i })).filter(({ image }) => image.gap >= lo && image.gap < hi);
  const correct = members.filter(({ image, i }) => predicted[i] === image.label).length;
  console.log(`${name}: ${correct}/${members.length} = ${((100 * correct) / Math.max(1, members.length)).toFixed(1)} %`);
}
