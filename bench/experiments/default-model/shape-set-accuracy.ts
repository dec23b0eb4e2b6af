/**
 * `npx tsx bench/experiments/default-model/shape-set-accuracy.ts --model model/resnet50-shapes-int8.onnx --data DIR`: top-1 of a model
 * on a shapes set that lists its images in DIR/images.csv (file, label, side, size, background, gap; as
 * bench/experiments/default-model/pil-shapes.py writes), overall and split by shape size (diameter / side), background, luminance gap
 * and class × size: where a renderer's shapes are lost.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { caffePreprocess } from '../../../src/core/preprocess-spec.js';
import { loadImageTensor } from '../../../training/data/load.js';
import { SHAPE_CLASSES, type ShapeClass } from '../../../training/data/shapes.js';
import { FULL_RECIPE } from '../../../training/default-model/recipe.js';
import { predictAll } from '../../../training/evaluate/evaluate.js';

interface Row {
  file: string;
  label: number;
  size: number;
  background: string;
  gap: number;
}

const { values } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' } } });
if (!values.model || !values.data) throw new Error('usage: --model FILE.onnx --data DIR (with DIR/images.csv)');
const [header, ...lines] = readFileSync(join(values.data, 'images.csv'), 'utf8').trim().split('\n');
const column = (name: string) => header!.split(',').indexOf(name);
const rows: Row[] = lines.map((line) => {
  const cells = line.split(',');
  return { file: cells[column('file')]!, label: SHAPE_CLASSES.indexOf(cells[column('label')] as ShapeClass), size: Number(cells[column('size')]), background: cells[column('background')]!, gap: Number(cells[column('gap')]) };
});
const spec = caffePreprocess(FULL_RECIPE.inputSize, FULL_RECIPE.inputSize);
const tensors = await Promise.all(rows.map((row) => loadImageTensor(join(values.data!, row.file), spec)));
const { predicted } = await predictAll(values.model, tensors, spec);

function report(name: string, key: (row: Row) => string) {
  const groups = new Map<string, [number, number]>();
  rows.forEach((row, i) => {
    const [right, all] = groups.get(key(row)) ?? [0, 0];
    groups.set(key(row), [right + (predicted[i] === row.label ? 1 : 0), all + 1]);
  });
  const cells = [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, [right, all]]) => `${k} ${right}/${all} (${((100 * right) / all).toFixed(1)} %)`);
  console.log(`${name}: ${cells.join(', ')}`);
}
report('all', () => 'top-1');
report('size', (row) => (row.size < 0.4 ? '< 0.4' : row.size < 0.55 ? '0.4–0.55' : '≥ 0.55'));
report('background', (row) => row.background);
report('luminance gap', (row) => (row.gap < 30 ? '< 30' : row.gap < 60 ? '30–60' : '≥ 60'));
report('class × size', (row) => `${SHAPE_CLASSES[row.label]}${row.size < 0.45 ? ' small' : ' large'}`);
const confusions = new Map<string, number>();
rows.forEach((row, i) => {
  if (predicted[i] === row.label) return;
  const pair = `${SHAPE_CLASSES[row.label]}→${SHAPE_CLASSES[predicted[i]!]}`;
  confusions.set(pair, (confusions.get(pair) ?? 0) + 1);
});
console.log(`errors: ${[...confusions].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
