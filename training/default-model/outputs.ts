/**
 * @module Step 3 of the default model: from the trained fp32 network to the model folder. int8 calibration,
 * scores on the validation and test splits (both renderers), the files the Worker serves with their manifest,
 * and the same weights at 224×224 for the benchmarks (model/bench/).
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Manifest } from '../../src/core/manifest.js';
import { caffePreprocess, type PreprocessSpec } from '../../src/core/preprocess-spec.js';
import { loadImageTensors, type LoadedSet } from '../data/load.js';
import { SHAPE_CLASSES } from '../data/shapes.js';
import { agreement, FP32_ENGINE, INT8_ENGINE, predictAll } from '../evaluate/evaluate.js';
import { writeExternalDataForm } from '../model-folder/external-data.js';
import { sha256OfBytes, writeFileAtomic, writeJsonAtomic } from '../model-folder/files.js';
import { buildManifest } from '../model-folder/manifest.js';
import { decodeModel, encodeModel, type ModelProto } from '../onnx/proto.js';
import { quantizeStatic, type QuantizationSummary } from '../onnx/quantize.js';
import { loadSplit, splitFiles } from './data.js';
import type { DefaultModelRecipe } from './recipe.js';

/** Evenly spread calibration images: every k-th training image, so all classes appear. */
function calibrationSubset(set: LoadedSet, count: number): Float32Array[] {
  const step = Math.max(1, Math.floor(set.tensors.length / count));
  return set.tensors.filter((_, i) => i % step === 0).slice(0, count);
}

/** Same graph, different declared input size (the network is fully convolutional up to global pooling). */
function withInputSize(model: ModelProto, size: number): ModelProto {
  const copy = decodeModel(encodeModel(model));
  const dims = copy.graph!.input![0]!.type!.tensorType!.shape!.dim!;
  dims[2] = { dimValue: size };
  dims[3] = { dimValue: size };
  return copy;
}

export interface Scored {
  int8Bytes: Uint8Array;
  summary: QuantizationSummary;
  metrics: Record<string, number | string>;
  /** The validation split's tensors (checks the split form the Worker loads). */
  validation: Float32Array[];
}

/** int8 calibration on training images, then every held-out split scored in both precisions. */
export async function quantizeAndScore(recipe: DefaultModelRecipe, fp32: ModelProto, fp32Bytes: Uint8Array, train: LoadedSet, dataDir: string, spec: PreprocessSpec, log: (line: string) => void): Promise<Scored> {
  log(`quantize: calibrating on ${recipe.calibrationImages} training images (percentile)`);
  const calibration = calibrationSubset(train, recipe.calibrationImages);
  const { model: int8, summary } = await quantizeStatic(fp32, calibration, [1, 3, recipe.inputSize, recipe.inputSize], { method: 'percentile' });
  const int8Bytes = encodeModel(int8);

  log('evaluate: validation and test shapes, each from our renderer and from librsvg (an independent renderer)');
  const metrics: Record<string, number | string> = {};
  let validation: Float32Array[] = [];
  for (const split of ['validation', 'validation_svg', 'test', 'test_svg'] as const) {
    const set = await loadSplit(dataDir, split, spec);
    if (split === 'validation') validation = set.tensors;
    // int8 through the Worker's engine (the edge's numbers, the same on any host); fp32 natively (fast, float).
    const p32 = await predictAll(fp32Bytes, set.tensors, spec, { engine: 'native' });
    const p8 = await predictAll(int8Bytes, set.tensors, spec);
    metrics[`${split}_count`] = set.tensors.length;
    metrics[`${split}_top1_fp32`] = agreement(p32.predicted, set.labels);
    metrics[`${split}_top1_int8`] = agreement(p8.predicted, set.labels);
    metrics[`${split}_agreement`] = agreement(p8.predicted, p32.predicted);
  }
  metrics.int8_engine = INT8_ENGINE;
  metrics.fp32_engine = FP32_ENGINE;
  return { int8Bytes, summary, metrics, validation };
}

/** Writes the servable folder: int8 file, fp32 reference, the split form, example images and the manifest. Returns file → sha256. */
export async function writeModelFolder(recipe: DefaultModelRecipe, out: string, fp32Bytes: Uint8Array, scored: Scored, dataDir: string, spec: PreprocessSpec, log: (line: string) => void) {
  const labels = [...SHAPE_CLASSES];
  const { int8Bytes } = scored;
  const int8File = `${recipe.name}-int8.onnx`;
  const fp32File = `${recipe.name}-fp32.onnx`;
  const int8Sha = sha256OfBytes(int8Bytes);
  await writeFileAtomic(join(out, int8File), int8Bytes);
  await writeFileAtomic(join(out, fp32File), fp32Bytes);
  const externalData = await writeExternalDataForm(out, int8File, int8Bytes, { tensors: scored.validation, dims: [1, 3, recipe.inputSize, recipe.inputSize] }, log);
  // What the web page offers a first visitor: the first test image of each class (the test split's files as drawn).
  const examples: NonNullable<Manifest['examples']> = [];
  const testFiles = await splitFiles(dataDir, 'test');
  for (const [c, label] of labels.entries()) {
    const source = testFiles.find((f) => f.label === c);
    if (!source) continue;
    const bytes = new Uint8Array(await readFile(source.path));
    const file = `example-${label}${extname(source.path)}`;
    await writeFileAtomic(join(out, file), bytes);
    examples.push({ file, sha256: sha256OfBytes(bytes), bytes: bytes.byteLength, label });
  }
  const manifest = buildManifest({
    name: recipe.name,
    version: recipe.version,
    file: int8File,
    bytes: int8Bytes,
    sha256: int8Sha,
    preprocess: spec,
    labels,
    quantization: scored.summary,
    metrics: scored.metrics,
    reference: { file: fp32File, sha256: sha256OfBytes(fp32Bytes), bytes: fp32Bytes.byteLength },
    externalData,
    examples,
  });
  await writeJsonAtomic(join(out, 'manifest.json'), manifest);
  return {
    int8File,
    int8Sha,
    files: {
      [int8File]: int8Sha,
      [externalData.graph.file]: externalData.graph.sha256,
      [externalData.weights.file]: externalData.weights.sha256,
      'manifest.json': sha256OfBytes(await readFile(join(out, 'manifest.json'))),
      ...Object.fromEntries(examples.map((e) => [e.file, e.sha256])),
    } as Record<string, string>,
  };
}

/** The same weights at the recipe's bench size in `out`/bench/. Returns its files (relative to `out`) → sha256. */
export async function writeBenchModel(recipe: DefaultModelRecipe, fp32: ModelProto, out: string, dataDir: string, log: (line: string) => void) {
  const labels = [...SHAPE_CLASSES];
  const size = recipe.benchInputSize;
  log(`bench: the same weights as a ${size}×${size} int8 ResNet50 (model/bench/)`);
  const benchSpec = caffePreprocess(size, size);
  const benchFp32 = withInputSize(fp32, size);
  const validationFiles = await splitFiles(dataDir, 'validation');
  const benchCalibration = (await loadImageTensors(validationFiles.slice(0, 200), benchSpec)).tensors.filter((_, i) => i % 12 === 0);
  const bench = await quantizeStatic(benchFp32, benchCalibration, [1, 3, size, size], { method: 'percentile' });
  const benchBytes = encodeModel(bench.model);
  const benchFp32Bytes = encodeModel(benchFp32);
  const benchDir = join(out, 'bench');
  const benchFile = `resnet50-${size}-int8.onnx`;
  await writeFileAtomic(join(benchDir, benchFile), benchBytes);
  await writeFileAtomic(join(benchDir, `resnet50-${size}-fp32.onnx`), benchFp32Bytes);
  const benchHeldOut = (await loadImageTensors(validationFiles.slice(200, 216), benchSpec)).tensors;
  const benchExternal = await writeExternalDataForm(benchDir, benchFile, benchBytes, { tensors: benchHeldOut, dims: [1, 3, size, size] }, log);
  const benchManifest = buildManifest({
    name: `resnet50-${size}-bench`,
    version: recipe.version,
    file: benchFile,
    bytes: benchBytes,
    sha256: sha256OfBytes(benchBytes),
    preprocess: benchSpec,
    labels,
    quantization: bench.summary,
    metrics: { note: 'benchmark model: the default model weights at 224×224 input' },
    reference: { file: `resnet50-${size}-fp32.onnx`, sha256: sha256OfBytes(benchFp32Bytes), bytes: benchFp32Bytes.byteLength },
    externalData: benchExternal,
  });
  await writeJsonAtomic(join(benchDir, 'manifest.json'), benchManifest);
  const files: Record<string, string> = { [`bench/${benchFile}`]: benchManifest.sha256 };
  for (const ref of [benchExternal.graph, benchExternal.weights]) files[`bench/${ref.file}`] = ref.sha256;
  return files;
}
