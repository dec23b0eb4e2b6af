/** @module The pipeline CLI: `npm run pipeline -- <command> [options]` (`npm run model` is `model`). */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseManifest } from '../src/core/manifest.js';
import { caffePreprocess, type PreprocessSpec } from '../src/core/preprocess-spec.js';
import { publishModel } from './commands/publish.js';
import { quantizeCommand } from './commands/quantize.js';
import { buildDefaultModel } from './default-model.js';
import { evaluateModel } from './evaluate.js';
import { writeJsonAtomic } from './files.js';
import { CALIBRATION_METHODS } from './onnx/calibrate.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got ${value}`);
  return n;
};

/** torchvision's ImageNet normalisation (RGB, mean/std on 0..255), resize-then-crop. */
function torchPreprocess(size: number): PreprocessSpec {
  return { ...caffePreprocess(size, size), resize: 'center-crop', cropFraction: 0.875, colorOrder: 'RGB', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] };
}

/** The preprocessing for a model: --manifest, else manifest.json beside it, else --preprocess/--input-size. */
async function resolveSpec(model: string, o: { manifest?: string; preprocess?: 'caffe' | 'torch'; inputSize?: number }) {
  if (!o.preprocess) {
    const path = o.manifest ?? join(dirname(model), 'manifest.json');
    const json = await readFile(path, 'utf8').catch(() => null);
    if (json) {
      const manifest = parseManifest(JSON.parse(json));
      return { spec: manifest.preprocess, labels: manifest.labels, outputKind: manifest.output.kind };
    }
    if (o.manifest) throw new Error(`cannot read manifest ${o.manifest}`);
  }
  const size = o.inputSize ?? 224;
  return { spec: o.preprocess === 'torch' ? torchPreprocess(size) : caffePreprocess(size, size), labels: undefined, outputKind: undefined };
}

const program = new Command('pipeline').description('Train, export, quantize, evaluate and publish ResNet50 classifiers for the edge Worker');

program
  .command('model')
  .description('build the default model into model/ (offline, from nothing; instant when up to date)')
  .option('--out <dir>', 'output folder', 'model')
  .option('--fast', 'a small, quick variant of the same build (for CI and tests: servable, not accurate)', false)
  .option('--force', 'rebuild even when up to date', false)
  .option('--no-bench', 'skip the 224×224 benchmark model')
  .action(async (o: { out: string; fast: boolean; force: boolean; bench: boolean }) => {
    await buildDefaultModel({ out: o.out, fast: o.fast, force: o.force, bench: o.bench, log });
  });

const specOptions = (cmd: Command) =>
  cmd
    .option('--manifest <file>', 'manifest whose preprocessing and labels to use (default: manifest.json beside the model)')
    .addOption(new Option('--preprocess <mode>', 'preprocessing when there is no manifest').choices(['caffe', 'torch']))
    .option('--input-size <n>', 'input size when there is no manifest', positiveInt);

specOptions(
  program
    .command('quantize')
    .description('static int8 quantization (QDQ, per-channel int8 weights, uint8 activations) calibrated on images')
    .requiredOption('--model <file>', 'float32 ONNX model')
    .requiredOption('--calibration <dir>', 'calibration images: a folder of images, or one folder per class')
    .requiredOption('--out <file>', 'where to write the int8 model')
    .addOption(new Option('--method <method>', 'calibration method').choices(CALIBRATION_METHODS).default('percentile'))
    .option('--limit <n>', 'at most this many calibration images (spread evenly)', positiveInt, 200)
    .addOption(new Option('--output <kind>', 'what the model outputs').choices(['probabilities', 'logits'])),
).action(async (o) => {
  const resolved = await resolveSpec(o.model, o);
  const report = await quantizeCommand({ model: o.model, calibration: o.calibration, out: o.out, method: o.method, spec: resolved.spec, limit: o.limit, outputKind: o.output ?? resolved.outputKind ?? 'probabilities' }, log);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
});

specOptions(
  program
    .command('evaluate')
    .description('accuracy, per-class precision/recall/F1, confusion matrix and ROC on a folder-per-class set')
    .requiredOption('--model <file>', 'ONNX model to evaluate')
    .requiredOption('--data <dir>', 'one folder per class (folder name = label) of JPEG/PNG files')
    .option('--json <file>', 'write the report here')
    .option('--reference <file>', 'float model to measure top-1 agreement against')
    .addOption(new Option('--output <kind>', 'what the model outputs').choices(['probabilities', 'logits'])),
).action(async (o) => {
  const resolved = await resolveSpec(o.model, o);
  const report = await evaluateModel({ model: o.model, data: o.data, spec: resolved.spec, labels: resolved.labels, reference: o.reference, outputKind: o.output ?? resolved.outputKind });
  const perClass = Object.fromEntries(report.labels.map((l, i) => [l, report.per_class[i]]));
  const json = { ...report, per_class: perClass };
  if (o.json) await writeJsonAtomic(o.json, json);
  const { roc_curves: _roc, ...summary } = json;
  process.stdout.write(`${JSON.stringify({ top1: summary.top1, count: summary.count, agreement: summary.agreement, macro_f1: summary.macro_f1, skipped: summary.skipped.length }, null, 2)}\n`);
});

program
  .command('publish')
  .description('upload a model folder to the MODELS R2 bucket: content-addressed model first, manifest last')
  .requiredOption('--model-dir <dir>', 'folder holding manifest.json and the model it names')
  .option('--remote', 'publish to Cloudflare R2 (default: the local R2 that wrangler dev uses)', false)
  .option('--bucket <name>', 'bucket name (default: the MODELS binding in wrangler.toml)')
  .option('--persist-to <dir>', 'local state folder, as given to wrangler dev --persist-to')
  .action(async (o: { modelDir: string; remote: boolean; bucket?: string; persistTo?: string }) => {
    const manifest = await publishModel({ ...o, log });
    process.stdout.write(`${JSON.stringify({ published: manifest.name, version: manifest.version, sha256: manifest.sha256 })}\n`);
  });

await program.parseAsync(process.argv);
