/**
 * @module `pipeline import`: a trained ResNet classifier, from the tool it was trained with, → a servable int8
 * model folder. Sources (found from the file, training/sources/source.ts): a Keras 2 / tf.keras or Keras 3
 * whole-model `.h5`, a Keras 3 `.keras`, an ONNX export of a torchvision or timm ResNet, a Hugging Face
 * `ResNetForImageClassification` folder, or `imagenet` (keras-applications' ResNet with its top, downloaded once,
 * md5-pinned as Keras pins it). Every one becomes the same network description; ONNX sources are quantized as
 * their own graph, the others as the network built from the description.
 *
 * Before anything is written the float model is checked against an independent reference (reference-check.ts).
 * Int8 scales come from the user's own images (`--calibration DIR`): a fifth of them is kept out of calibration
 * to measure int8↔fp32 agreement. The folder is written beside `--out` and moved there whole: a failed import
 * leaves nothing half-written.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { topK } from '../../src/core/classify.js';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';
import { loadImageTensors } from '../data/load.js';
import { agreement, FP32_ENGINE, INT8_ENGINE, predictAll } from '../evaluate/evaluate.js';
import { writeExternalDataForm } from '../model-folder/external-data.js';
import { replaceFolder, sha256OfBytes, writeFileAtomic, writeJsonAtomic } from '../model-folder/files.js';
import { buildManifest } from '../model-folder/manifest.js';
import { networkSummary } from '../model-folder/network.js';
import { architectureOf, classifierOf, describe, type ResNetDepth } from '../network/description.js';
import type { CalibrationMethod } from '../onnx/calibrate.js';
import { exportToOnnx } from '../onnx/export.js';
import { decodeModel, encodeModel } from '../onnx/proto.js';
import { quantizeStatic } from '../onnx/quantize.js';
import { fetchPinned, KERAS_RESNET_TOP, type PinnedFile } from '../sources/download.js';
import { SourceError } from '../sources/graph.js';
import { resolveLabels } from '../sources/labels.js';
import { withOverrides, type PreprocessOverrides } from '../sources/preprocessing.js';
import { buildFromSource, checkAgainstSource, rebuiltOnnx, type ReferenceCheck } from '../sources/reference-check.js';
import { readSource, type SourceNetwork } from '../sources/source.js';
import { calibrationFiles } from './quantize.js';

export interface ImportOptions extends PreprocessOverrides {
  /** `imagenet`, a Keras `.h5` / `.keras`, an ONNX export, or a Hugging Face folder. */
  weights: string;
  calibration?: string;
  out: string;
  /** Input size where the file leaves it open (a Keras or HF network is convolutional up to its pooling). */
  inputSize?: number;
  /** The depth expected (and which Keras file `imagenet` downloads): an error when the file holds another. */
  depth?: ResNetDepth;
  /** `--labels FILE` / `--labels-from DIR`. */
  labels?: string;
  labelsFrom?: string;
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

/** The float model served (and its tensor names): an ONNX source's own graph, else the description's network. */
async function floatModel(source: SourceNetwork) {
  if (source.onnx) return { bytes: encodeModel(source.onnx.model), inputName: source.onnx.inputName, outputName: source.onnx.outputName };
  const model = await buildFromSource(source);
  const exported = exportToOnnx(model);
  model.dispose();
  return { bytes: encodeModel(exported), inputName: exported.graph!.input![0]!.name!, outputName: exported.graph!.output![0]!.name! };
}

/** The reference check's verdict: a rebuilt network that computes something else is not imported. */
const REFUSE_ABOVE = 1e-3;

export async function importCommand(o: ImportOptions) {
  const { log } = o;
  if (!o.calibration) {
    throw new ImportInputError(
      'import needs --calibration DIR: a folder of your own images (100–500, like those the model will see), flat or one folder per class. The int8 scales come from them; there is no default calibration set offline.',
    );
  }
  const path = o.weights === 'imagenet' ? await fetchPinned(o.pinned ?? KERAS_RESNET_TOP[o.depth ?? 50], o.cacheDir, log) : o.weights;
  let source: SourceNetwork;
  let labels: Awaited<ReturnType<typeof resolveLabels>>;
  try {
    source = await readSource(path, { inputSize: o.inputSize, depth: o.depth });
    labels = await resolveLabels(classifierOf(source.description).units, source.labels, { labelsFile: o.labels, labelsFrom: o.labelsFrom });
  } catch (e) {
    if (e instanceof SourceError) throw new ImportInputError(e.message);
    throw e;
  }
  const spec: PreprocessSpec = withOverrides(source.preprocess, o);
  const { description } = source;
  log(`import: ${source.detail}: ${describe(description)}, ${source.outputKind}`);
  log(`import: labels from ${labels.from}; preprocessing from ${o.recipe || o.filter || o.cropPct !== undefined ? 'the flags given' : source.preprocessFrom}`);
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

  const fp32 = await floatModel(source);
  // An ONNX source is served as itself: what is checked is our network rebuilt from it (what train --weights fine-tunes).
  const candidate = source.onnx ? await rebuiltOnnx(source) : fp32.bytes;
  const check: ReferenceCheck = await checkAgainstSource(source, candidate, heldOut.tensors.slice(0, 8), spec);
  if ('not_run' in check) log(`import: reference check not run: ${check.not_run}`);
  else {
    log(`import: fp32 against ${check.against}: max |Δ| ${check.max_abs_diff.toExponential(2)} (${check.max_relative_diff.toExponential(2)} of the outputs' scale) on ${check.images} images`);
    if (check.max_relative_diff > REFUSE_ABOVE) throw new ImportInputError(`${path}: the network read from the file computes something else than the file does (max |Δ| ${check.max_abs_diff.toExponential(2)}, ${check.max_relative_diff.toExponential(2)} of the outputs' scale, against ${check.against}): not imported. Please report the file's layout.`);
  }

  log(`import: calibrating (${o.method}) on ${calibration.tensors.length} images, ${heldOut.tensors.length} held out for the int8↔fp32 check`);
  const { model: int8, summary } = await quantizeStatic(decodeModel(fp32.bytes), calibration.tensors, dims, { method: o.method });
  const int8Bytes = encodeModel(int8);
  const p32 = await predictAll(fp32.bytes, heldOut.tensors, spec, { outputKind: source.outputKind, engine: 'native' });
  const p8 = await predictAll(int8Bytes, heldOut.tensors, spec, { outputKind: source.outputKind });
  const topFive = (s: Float32Array) => topK(s, [], 5).map((r) => r.index);
  const top5Overlap = p8.scores.reduce((sum, s, i) => sum + topFive(s).filter((c) => topFive(p32.scores[i]!).includes(c)).length / Math.min(5, s.length), 0) / p8.scores.length;
  const measured = {
    heldout_count: heldOut.tensors.length,
    agreement_int8_fp32: agreement(p8.predicted, p32.predicted),
    top5_overlap_int8_fp32: top5Overlap,
    calibration_images: calibration.tensors.length,
    ...('not_run' in check ? {} : { source_check_max_abs_diff: check.max_abs_diff, source_check_images: check.images }),
  };

  // Everything goes to a fresh folder beside --out, moved into place only once complete.
  const staging = join(dirname(o.out), `.${basename(o.out)}.import-${randomBytes(4).toString('hex')}`);
  try {
    await writeFileAtomic(join(staging, 'model-fp32.onnx'), fp32.bytes);
    await writeFileAtomic(join(staging, 'model-int8.onnx'), int8Bytes);
    const manifest = buildManifest({
      name: o.name,
      version: o.version,
      file: 'model-int8.onnx',
      bytes: int8Bytes,
      sha256: sha256OfBytes(int8Bytes),
      preprocess: spec,
      labels: labels.labels,
      quantization: summary,
      outputKind: source.outputKind,
      inputName: fp32.inputName,
      outputName: fp32.outputName,
      metrics: { ...measured, imported_from: source.kind, top1: 'not measured here (run `evaluate --data DIR` on a labelled folder)' },
      architecture: architectureOf(description),
      network: networkSummary(description),
      reference: { file: 'model-fp32.onnx', sha256: sha256OfBytes(fp32.bytes), bytes: fp32.bytes.byteLength },
      externalData: await writeExternalDataForm(staging, 'model-int8.onnx', int8Bytes, { tensors: heldOut.tensors.slice(0, 64), dims }, log),
    });
    const metrics = {
      weights: path,
      imported_from: source.kind,
      source: source.detail,
      network: describe(description),
      description,
      labels_from: labels.from,
      preprocess_from: o.recipe || o.filter || o.cropPct !== undefined ? 'flags' : source.preprocessFrom,
      reference_check: check,
      int8_engine: INT8_ENGINE,
      fp32_engine: FP32_ENGINE,
      measured,
      not_measured: ['top-1 accuracy (no labelled images given: run `evaluate --data DIR` on a labelled folder)'],
      skipped: [...calibration.skipped, ...heldOut.skipped],
    };
    await writeJsonAtomic(join(staging, 'metrics.json'), metrics);
    await writeJsonAtomic(join(staging, 'manifest.json'), manifest);
    await replaceFolder(staging, o.out);
    const reference = 'not_run' in check ? 'fp32 reference check not run' : `${source.onnx ? 'rebuilt network' : 'fp32'} max |Δ| ${check.max_abs_diff.toExponential(2)} against the source`;
    log(`import: ${architectureOf(description)}, ${labels.labels.length} labels; ${reference}; int8 agrees with fp32 on ${(measured.agreement_int8_fp32 * 100).toFixed(1)} % of ${measured.heldout_count} held-out images (top-5 overlap ${(top5Overlap * 100).toFixed(1)} %); wrote ${o.out}/`);
    return { manifest, metrics };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}
