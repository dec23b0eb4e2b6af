/** @module `pipeline quantize`: static int8 QDQ quantization of an ONNX classifier with calibration images. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';
import { IMAGE_EXTENSIONS, readFolderDataset } from '../data/folder.js';
import { loadImageTensors } from '../data/load.js';
import { agreement, predictAll } from '../evaluate/evaluate.js';
import { writeFileAtomic } from '../model-folder/files.js';
import type { CalibrationMethod } from '../onnx/calibrate.js';
import { decodeModel, encodeModel } from '../onnx/proto.js';
import { quantizeStatic } from '../onnx/quantize.js';

export interface QuantizeCommandOptions {
  model: string;
  calibration: string;
  out: string;
  method: CalibrationMethod;
  spec: PreprocessSpec;
  limit: number;
  outputKind: 'probabilities' | 'logits';
}

/** Calibration files: a folder-per-class tree (labels give accuracy figures) or a flat folder of images. */
export async function calibrationFiles(dir: string): Promise<{ files: Array<{ path: string; label: number }>; labelled: boolean }> {
  const flat = (await readdir(dir)).filter((f) => IMAGE_EXTENSIONS.test(f)).sort();
  if (flat.length > 0) return { files: flat.map((f) => ({ path: join(dir, f), label: -1 })), labelled: false };
  const dataset = await readFolderDataset(dir);
  return { files: dataset.files, labelled: true };
}

export async function quantizeCommand(o: QuantizeCommandOptions, log: (s: string) => void) {
  const { files, labelled } = await calibrationFiles(o.calibration);
  const step = Math.max(1, Math.floor(files.length / o.limit));
  const chosen = files.filter((_, i) => i % step === 0).slice(0, o.limit);
  const set = await loadImageTensors(chosen, o.spec);
  if (set.tensors.length === 0) throw new Error(`no decodable calibration images in ${o.calibration}`);
  log(`calibrating on ${set.tensors.length} images (${set.skipped.length} skipped) with ${o.method}`);
  const fp32Bytes = new Uint8Array(await readFile(o.model));
  const { model, summary } = await quantizeStatic(decodeModel(fp32Bytes), set.tensors, [1, 3, o.spec.height, o.spec.width], { method: o.method });
  const int8Bytes = encodeModel(model);
  await writeFileAtomic(o.out, int8Bytes);
  const p32 = await predictAll(fp32Bytes, set.tensors, o.spec, { outputKind: o.outputKind, engine: 'native' });
  const p8 = await predictAll(int8Bytes, set.tensors, o.spec, { outputKind: o.outputKind });
  const report: Record<string, number> = {
    fp32_bytes: fp32Bytes.byteLength,
    int8_bytes: int8Bytes.byteLength,
    agreement: agreement(p8.predicted, p32.predicted),
    ...summary,
  } as unknown as Record<string, number>;
  if (labelled) {
    report.top1_fp32 = agreement(p32.predicted, set.labels);
    report.top1_int8 = agreement(p8.predicted, set.labels);
  }
  log(`wrote ${o.out}`);
  return report;
}
