/**
 * @module `pipeline import`: a published ResNet50 ImageNet classifier → a servable int8 model folder with its
 * 1,000 labels, in the hosted Workers AI model's wording. Two sources:
 *   - Keras: `imagenet` (keras-applications' `resnet50_weights_tf_dim_ordering_tf_kernels.h5`, downloaded once,
 *     md5-pinned as Keras pins it) or a Keras `.h5` with the top. Loaded by layer name into our Keras-topology
 *     ResNet50 with the Keras head (GAP → Dense(1000, softmax) `predictions`), exported; Keras "caffe" preprocessing.
 *   - torchvision: a ResNet50 `.onnx` with its `fc` layer, quantized as it is (its own graph, so its own v1.5
 *     topology), logits out; torchvision's preprocessing (resize, centre crop 87.5 %, ImageNet mean/std).
 * Int8 scales come from the user's own images (`--calibration DIR`): there is no default set offline. A fifth of
 * them is kept out of calibration to measure int8↔fp32 top-1 agreement; accuracy on ImageNet is not measured
 * here (no labelled ImageNet images), and the manifest and metrics.json say so.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { topK } from '../../src/core/classify.js';
import { caffePreprocess, torchPreprocess, type PreprocessSpec } from '../../src/core/preprocess-spec.js';
import { loadImageTensors } from '../data/load.js';
import { agreement, FP32_ENGINE, INT8_ENGINE, predictAll } from '../evaluate/evaluate.js';
import { writeExternalDataForm } from '../model-folder/external-data.js';
import { sha256OfBytes, writeFileAtomic, writeJsonAtomic } from '../model-folder/files.js';
import { buildManifest } from '../model-folder/manifest.js';
import { buildResNet50, type ResNetDepth } from '../network/resnet.js';
import type { CalibrationMethod } from '../onnx/calibrate.js';
import { exportToOnnx } from '../onnx/export.js';
import { decodeModel, encodeModel, type ModelProto } from '../onnx/proto.js';
import { quantizeStatic } from '../onnx/quantize.js';
import { useBackend } from '../tf/backend.js';
import { fetchPinned, KERAS_RESNET_TOP, type PinnedFile } from '../sources/download.js';
import { IMAGENET_CLASS_COUNT, imagenetLabels } from '../sources/imagenet-labels.js';
import { readKerasH5 } from '../sources/keras-h5.js';
import { applyLayerWeights } from '../sources/layer-weights.js';
import { calibrationFiles } from './quantize.js';

export interface ImportOptions {
  /** `imagenet`, or a Keras `.h5` with the top, or a torchvision-layout ResNet50 `.onnx` with `fc`. */
  weights: string;
  calibration?: string;
  out: string;
  /** Input size of a Keras import (a torchvision file's own input size wins). */
  inputSize: number;
  /** Depth of a Keras import (50, 101, 152: which Keras file `imagenet` downloads); a torchvision graph is what it is. */
  depth?: ResNetDepth;
  calibrationImages: number;
  method: CalibrationMethod;
  name: string;
  version: string;
  log: (line: string) => void;
  /** Where `imagenet` comes from (tests point it at a local server) and where it is cached. */
  pinned?: PinnedFile;
  cacheDir?: string;
}

/** A problem with what the user gave (exit code 2, no stack). */
export class ImportInputError extends Error {}

interface Float32Classifier {
  fp32: ModelProto;
  spec: PreprocessSpec;
  outputKind: 'probabilities' | 'logits';
  inputName: string;
  outputName: string;
  source: string;
  depth: number;
}

async function fromKerasH5(path: string, inputSize: number, depth: ResNetDepth, log: (l: string) => void): Promise<Float32Classifier> {
  const layers = await readKerasH5(path);
  const head = layers.get('predictions');
  if (!head) throw new ImportInputError(`${path} has no "predictions" layer: it is a no-top file. import needs the classifier (…_tf_kernels.h5, not …_notop.h5)`);
  if (head[0]?.shape.join('×') !== `2048×${IMAGENET_CLASS_COUNT}`) throw new ImportInputError(`${path}: "predictions" has shape ${head[0]?.shape.join('×')}; an ImageNet ResNet50 has 2048×${IMAGENET_CLASS_COUNT}`);
  await useBackend('wasm');
  const model = buildResNet50({ inputSize, classes: IMAGENET_CLASS_COUNT, head: 'keras', depth });
  const report = applyLayerWeights(model, layers);
  if (report.missing.length > 0) throw new ImportInputError(`${path}: no weights for ${report.missing.length} layers (${report.missing.slice(0, 3).join(', ')}…): not a Keras ResNet${depth} (--depth)`);
  if (report.unused.length > 0) throw new ImportInputError(`${path}: ${report.unused.length} layers the ResNet${depth} lacks (${report.unused.slice(0, 3).join(', ')}…): a deeper network? (--depth)`);
  log(`import: ${report.loaded.length} layers loaded from ${path}`);
  await Promise.all(model.weights.map((w) => w.read().data()));
  const fp32 = exportToOnnx(model);
  model.dispose();
  return { fp32, spec: caffePreprocess(inputSize, inputSize), outputKind: 'probabilities', inputName: 'input', outputName: 'probabilities', source: 'keras-h5', depth };
}

async function fromTorchvisionOnnx(path: string): Promise<Float32Classifier> {
  const fp32 = decodeModel(new Uint8Array(await readFile(path)));
  const graph = fp32.graph!;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name!));
  const input = (graph.input ?? []).find((i) => !initializers.has(i.name!));
  const output = graph.output?.[0];
  const dims = (info: typeof input) => (info?.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue === undefined || d.dimValue === null ? null : Number(d.dimValue)));
  const [, channels, height, width] = dims(input);
  if (!input || channels !== 3 || !height || height !== width) throw new ImportInputError(`${path}: expected one image input [N, 3, S, S], got ${JSON.stringify(dims(input))}`);
  const classes = dims(output).at(-1);
  if (!output || classes !== IMAGENET_CLASS_COUNT) throw new ImportInputError(`${path}: expected ${IMAGENET_CLASS_COUNT} outputs (the fc layer), got ${JSON.stringify(dims(output))}`);
  // A ResNet-N has N + 3 convolutions (the stem, three per bottleneck block, four projections): 53 for ResNet50.
  const convolutions = graph.node!.filter((n) => n.opType === 'Conv').length;
  return { fp32, spec: torchPreprocess(height), outputKind: 'logits', inputName: input.name!, outputName: output.name!, source: 'torchvision-onnx', depth: convolutions - 3 };
}

export async function importCommand(o: ImportOptions) {
  const { log } = o;
  if (!o.calibration) {
    throw new ImportInputError(
      'import needs --calibration DIR: a folder of your own images (100–500, like those the model will see), flat or one folder per class. The int8 scales come from them; there is no default calibration set offline.',
    );
  }
  const depth = o.depth ?? 50;
  const path = o.weights === 'imagenet' ? await fetchPinned(o.pinned ?? KERAS_RESNET_TOP[depth], o.cacheDir, log) : o.weights;
  const ext = extname(path).toLowerCase();
  const classifier = ext === '.onnx' ? await fromTorchvisionOnnx(path) : ['.h5', '.hdf5'].includes(ext) ? await fromKerasH5(path, o.inputSize, depth, log) : null;
  if (!classifier) throw new ImportInputError(`--weights ${o.weights}: expected imagenet, a Keras .h5 with the top, or a torchvision ResNet50 .onnx`);
  const { fp32, spec, outputKind } = classifier;
  const dims = [1, 3, spec.height, spec.width];

  // Every fifth image is kept out of calibration, to measure what int8 changes on images it was not fitted to.
  const { files } = await calibrationFiles(o.calibration);
  const heldOutFiles = files.filter((_, i) => i % 5 === 4);
  const calibrationPool = files.filter((_, i) => i % 5 !== 4);
  const step = Math.max(1, Math.floor(calibrationPool.length / o.calibrationImages));
  const calibration = await loadImageTensors(calibrationPool.filter((_, i) => i % step === 0).slice(0, o.calibrationImages), spec);
  const heldOut = await loadImageTensors(heldOutFiles, spec);
  if (calibration.tensors.length < 8 || heldOut.tensors.length < 2) {
    throw new ImportInputError(`${o.calibration}: ${calibration.tensors.length + heldOut.tensors.length} decodable images; import needs at least 10 (100–500 is better)`);
  }
  log(`import: calibrating (${o.method}) on ${calibration.tensors.length} images, ${heldOut.tensors.length} held out for the int8↔fp32 check`);
  const { model: int8, summary } = await quantizeStatic(fp32, calibration.tensors, dims, { method: o.method });
  const [fp32Bytes, int8Bytes] = [encodeModel(fp32), encodeModel(int8)];
  await writeFileAtomic(join(o.out, 'model-fp32.onnx'), fp32Bytes);
  await writeFileAtomic(join(o.out, 'model-int8.onnx'), int8Bytes);

  const p32 = await predictAll(fp32Bytes, heldOut.tensors, spec, { outputKind, engine: 'native' });
  const p8 = await predictAll(int8Bytes, heldOut.tensors, spec, { outputKind });
  const topFive = (s: Float32Array) => topK(s, [], 5).map((r) => r.index);
  const top5Overlap = p8.scores.reduce((sum, s, i) => sum + topFive(s).filter((c) => topFive(p32.scores[i]!).includes(c)).length / 5, 0) / p8.scores.length;
  const measured = {
    heldout_count: heldOut.tensors.length,
    agreement_int8_fp32: agreement(p8.predicted, p32.predicted),
    top5_overlap_int8_fp32: top5Overlap,
    calibration_images: calibration.tensors.length,
  };
  const labels = imagenetLabels();
  const manifest = buildManifest({
    name: o.name,
    version: o.version,
    file: 'model-int8.onnx',
    bytes: int8Bytes,
    sha256: sha256OfBytes(int8Bytes),
    preprocess: spec,
    labels,
    quantization: summary,
    outputKind,
    inputName: classifier.inputName,
    outputName: classifier.outputName,
    metrics: { ...measured, imported_from: classifier.source, top1_imagenet: 'not measured (no labelled ImageNet images here)' },
    architecture: `resnet${classifier.depth}`,
    reference: { file: 'model-fp32.onnx', sha256: sha256OfBytes(fp32Bytes), bytes: fp32Bytes.byteLength },
    externalData: await writeExternalDataForm(o.out, 'model-int8.onnx', int8Bytes, { tensors: heldOut.tensors.slice(0, 64), dims }, log),
  });
  const metrics = {
    weights: path,
    imported_from: classifier.source,
    int8_engine: INT8_ENGINE,
    fp32_engine: FP32_ENGINE,
    measured,
    not_measured: ['top-1 accuracy on ImageNet (no labelled ImageNet images here: run `evaluate --data DIR` on a labelled folder)'],
    skipped: [...calibration.skipped, ...heldOut.skipped],
  };
  await writeJsonAtomic(join(o.out, 'metrics.json'), metrics);
  await writeJsonAtomic(join(o.out, 'manifest.json'), manifest);
  log(`import: int8 agrees with fp32 on ${(measured.agreement_int8_fp32 * 100).toFixed(1)} % of ${measured.heldout_count} held-out images (top-5 overlap ${(top5Overlap * 100).toFixed(1)} %); wrote ${o.out}/ (${labels.length} labels)`);
  return { manifest, metrics };
}
