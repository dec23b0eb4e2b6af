/** @module The pipeline CLI: `npm run pipeline -- <command> [options]` (`npm run model` is `model`). */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseManifest } from '../src/core/manifest.js';
import { caffePreprocess } from '../src/core/preprocess-spec.js';
import { ImportInputError, importCommand } from './commands/import.js';
import { explainCommand } from './commands/explain.js';
import { publishModel } from './commands/publish.js';
import { BatchInputError, batchCommand } from './commands/batch.js';
import { JobApiError } from './batch/client.js';
import { ModelTooLargeError } from './onnx/worker-fit.js';
import { rankCommand } from './commands/rank.js';
import { UNCERTAINTY_MEASURES } from './active/uncertainty.js';
import { quantizeCommand } from './commands/quantize.js';
import { TrainInputError, trainCommand } from './commands/train.js';
import { PruneInputError, pruneCommand } from './commands/prune.js';
import { PRUNE_CRITERIA } from './prune/rank.js';
import { FULL_RECIPE, recipeAugmentation } from './default-model/recipe.js';
import { TRAIN_AUGMENTATION } from './train/augment.js';
import { DEFAULT_CALLBACKS } from './train/callbacks.js';
import { DEVICE_CHOICES } from './tf/backend.js';
import type { ResNetDepth } from './network/description.js';
import { buildDefaultModel } from './default-model/build.js';
import { ENGINES, evaluateEnsemble, evaluateModel } from './evaluate/evaluate.js';
import { writeJsonAtomic } from './model-folder/files.js';
import { CALIBRATION_METHODS } from './onnx/calibrate.js';
import { RECIPES, recipeSpec } from './sources/preprocessing.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got ${value}`);
  return n;
};

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
  return { spec: o.preprocess === 'torch' ? recipeSpec('torchvision', size) : caffePreprocess(size, size), labels: undefined, outputKind: undefined };
}

const nonNegativeInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer ≥ 0, got ${value}`);
  return n;
};

const nonNegativeNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got ${value}`);
  return n;
};

const positiveNumber = (value: string) => {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`expected a number > 0, got ${value}`);
  return n;
};

const fraction = (value: string) => {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a number between 0 and 1, got ${value}`);
  return n;
};

const program = new Command('pipeline').description('Train, export, quantize, evaluate and publish ResNet50 classifiers for the edge Worker');
// A bad option or argument is the user's to fix: exit 2, as every command's own input errors (commander's default is 1).
program.exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));

program
  .command('model')
  .description('build the default model into model/ (offline, from nothing; instant when up to date)')
  .option('--out <dir>', 'output folder', 'model')
  .option('--fast', 'a small, quick variant of the same build (for CI and tests: servable, not accurate)', false)
  .option('--force', 'rebuild even when up to date', false)
  .option('--no-bench', 'skip the 224×224 benchmark model')
  .action(async (o: { out: string; fast: boolean; force: boolean; bench: boolean }) => {
    // The full build's report is committed (the README's accuracy figures quote it); the fast one's is not.
    const report = o.fast || o.out !== 'model' ? undefined : join('bench', 'results', 'default-model.json');
    await buildDefaultModel({ out: o.out, fast: o.fast, force: o.force, bench: o.bench, log, report });
  });

const specOptions = (cmd: Command) =>
  cmd
    .option('--manifest <file>', 'manifest whose preprocessing and labels to use (default: manifest.json beside the model)')
    .addOption(new Option('--preprocess <mode>', "preprocessing when there is no manifest: caffe (Keras' ResNet50) or torch (torchvision's Resize + CenterCrop, PIL bilinear)").choices(['caffe', 'torch']))
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
    .description('accuracy, per-class precision/recall/F1, confusion matrix and ROC on a folder-per-class set; several --model: each member and their soft and majority votes')
    .requiredOption('--model <file>', 'ONNX model to evaluate; repeat it for an ensemble (each with its manifest.json beside it)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .requiredOption('--data <dir>', 'one folder per class (folder name = label) of JPEG/PNG files')
    .option('--json <file>', 'write the report here')
    .option('--reference <file>', 'float model to measure top-1 agreement against (run by onnxruntime-node)')
    .addOption(new Option('--engine <engine>', "wasm: onnxruntime-web's wasm engine with the Worker's session options (the edge's numbers, the same on any host); native: onnxruntime-node on this CPU (faster; its int8 kernels saturate on x86 without VNNI, so int8 figures differ by host)").choices(ENGINES).default('wasm'))
    .addOption(new Option('--output <kind>', 'what the model outputs').choices(['probabilities', 'logits'])),
).action(async (o) => {
  const models = o.model as string[];
  if (models.length > 1) {
    const members = await Promise.all(models.map(async (model) => ({ model, ...(await resolveSpec(model, { ...o, manifest: undefined })) })));
    const report = await evaluateEnsemble(members.map((m) => ({ model: m.model, spec: m.spec, labels: m.labels, outputKind: m.outputKind })), o.data, o.engine);
    if (o.json) await writeJsonAtomic(o.json, report);
    process.stdout.write(`${JSON.stringify({ count: report.count, members: report.members, soft_vote: { top1: report.soft_vote.top1, macro_f1: report.soft_vote.macro_f1 }, majority_vote: report.majority_vote }, null, 2)}\n`);
    return;
  }
  const resolved = await resolveSpec(models[0]!, o);
  const report = await evaluateModel({ model: models[0]!, data: o.data, spec: resolved.spec, labels: resolved.labels, reference: o.reference, outputKind: o.output ?? resolved.outputKind, engine: o.engine });
  const perClass = Object.fromEntries(report.labels.map((l, i) => [l, report.per_class[i]]));
  const json = { ...report, per_class: perClass };
  if (o.json) await writeJsonAtomic(o.json, json);
  const { roc_curves: _roc, ...summary } = json;
  process.stdout.write(`${JSON.stringify({ top1: summary.top1, count: summary.count, agreement: summary.agreement, macro_f1: summary.macro_f1, skipped: summary.skipped.length, engine: summary.engine }, null, 2)}\n`);
});

program
  .command('train')
  .description('transfer learning on a folder-per-class data set: stage 1 (frozen trunk) then stage 2 (fine-tuning) → fp32 + int8 ONNX, manifest, metrics, report')
  .requiredOption('--data <dir>', 'one folder per class (folder name = label) of JPEG/PNG files, or DIR/train/<class> + DIR/val/<class> (+ DIR/test/<class>)')
  .option('--out <dir>', 'output folder: model-fp32.onnx, model-int8.onnx, manifest.json, metrics.json, report.html, checkpoints/', 'runs/train')
  .option('--val-split <fraction>', 'validation fraction when there is no val/ folder (stratified, seeded); validation picks the best epoch, so its score is optimistic', fraction, 0.2)
  .option('--test-split <fraction>', 'hold out this fraction of every class as a test split when there is no test/ folder (its own seed; scored once at the end: the accuracy to report). Default: none', fraction)
  .option('--input-size <n>', 'square input size in pixels', positiveInt, 224)
  .option('--weights <source>', 'imagenet (Keras ResNet50 no-top, downloaded once and checksummed), none (random init), or FILE: a Keras .h5 or a torchvision-layout ResNet50 .onnx', 'imagenet')
  .option('--freeze <n>', 'stage 1: freeze the first n layers (Keras layer indexing; frozen BatchNorm stays in inference mode)', nonNegativeInt, 150)
  .option('--epochs <n>', 'stage 1 epochs (0 skips the stage)', nonNegativeInt, 10)
  .option('--lr <rate>', 'stage 1 learning rate (Adam)', nonNegativeNumber, 1e-4)
  .option('--fine-tune-epochs <n>', 'stage 2 epochs with every layer trainable (0 skips the stage)', nonNegativeInt, 5)
  .option('--fine-tune-lr <rate>', 'stage 2 learning rate (Adam)', nonNegativeNumber, 1e-5)
  .option('--batch <n>', 'images per (micro-)batch', positiveInt, 32)
  .option('--accumulate <n>', 'gradient accumulation: micro-batches summed per optimizer step (effective batch = batch × n)', positiveInt, 1)
  .option('--l2 <factor>', 'L2 penalty on the head\'s Dense kernels (the recipe uses 0.01)', nonNegativeNumber, 0)
  .option('--dropout <rate>', 'dropout before the classifier (the recipe uses 0.5)', nonNegativeNumber, 0)
  .option('--seed <n>', 'seed for the split, initialisation, shuffling and augmentation', nonNegativeInt, 1)
  .addOption(new Option('--depth <n>', 'ResNet depth (Keras stage tables); --weights must be of the same depth').choices(['50', '101', '152']).default('50'))
  .option('--patience <n>', 'early stopping: epochs without val_loss improvement before a stage stops (best weights are restored)', positiveInt, DEFAULT_CALLBACKS.patience)
  .option('--lr-patience <n>', 'ReduceLROnPlateau: epochs without improvement before the learning rate is cut', positiveInt, DEFAULT_CALLBACKS.lrPatience)
  .option('--lr-factor <f>', 'ReduceLROnPlateau: factor applied to the learning rate', fraction, DEFAULT_CALLBACKS.lrFactor)
  .option('--no-augment', 'turn off augmentation (rotation ±20°, shifts 0.2, zoom 0.2, horizontal flip)')
  .option('--feature-views <n>', 'stage 1: augmented views of each training image whose frozen features are cached (epoch e uses view e mod n; view 0 is unaugmented)', positiveInt, 3)
  .option('--resume', 'continue from <out>/checkpoints/last.ckpt (after Ctrl-C or a crash) instead of starting again', false)
  .addOption(new Option('--device <device>', 'auto: a GPU when present (tfjs-node-gpu if installed, else WebGPU via Dawn), else the CPU (tfjs wasm + SIMD). Mixed precision: not available (no fp16 training in tfjs wasm or WebGPU)').choices(DEVICE_CHOICES).default('auto'))
  .addOption(new Option('--calibration <method>', 'int8 calibration method (on training images)').choices(CALIBRATION_METHODS).default('percentile'))
  .option('--calibration-images <n>', 'training images used for calibration', positiveInt, 200)
  .option('--name <name>', 'model name in the manifest', 'resnet50-custom')
  .option('--model-version <version>', 'model version in the manifest', '1.0.0')
  .action(async (o) => {
    try {
      await trainCommand({
        data: o.data, out: o.out, valSplit: o.valSplit, testSplit: o.testSplit ?? 0, inputSize: o.inputSize, weights: o.weights, freeze: o.freeze, epochs: o.epochs, lr: o.lr,
        fineTuneEpochs: o.fineTuneEpochs, fineTuneLr: o.fineTuneLr, batch: o.batch, accumulate: o.accumulate, l2: o.l2, dropout: o.dropout, seed: o.seed, depth: Number(o.depth) as ResNetDepth,
        callbacks: { ...DEFAULT_CALLBACKS, patience: o.patience, lrPatience: o.lrPatience, lrFactor: o.lrFactor }, augment: o.augment, featureViews: o.featureViews,
        resume: o.resume, device: o.device, calibration: o.calibration, calibrationImages: o.calibrationImages, name: o.name, version: o.modelVersion, log,
      });
    } catch (e) {
      if (!(e instanceof TrainInputError)) throw e;
      log(`train: ${e.message}`);
      process.exitCode = 2;
    }
  });

program
  .command('prune')
  .description("structured pruning of every bottleneck's inner channels (and, asked, each stage's residual stream; multiples of 8), fine-tuned with train's loop → fp32 + int8 ONNX, manifest (widths, GMAC, pruned from), metrics before and after")
  .requiredOption('--model <path>', 'a model folder train or import wrote (its fp32 reference is pruned), or a source file or folder import reads')
  .requiredOption('--keep <fraction>', "fraction of each block's inner channels kept (0.75, 0.5, 0.35…; rounded to multiples of 8)", (v: string) => {
    const n = Number(v);
    if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a fraction in (0, 1], got ${v}`);
    return n;
  })
  .option('--keep-stream <fraction>', "fraction of each stage's residual stream kept, cut as one group with every layer that reads or writes it (default 1: untouched, as the published recipes prune; below it, fewer MACs on layers --keep cannot reach)", (v: string) => {
    const n = Number(v);
    if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a fraction in (0, 1], got ${v}`);
    return n;
  }, 1)
  .requiredOption('--data <dir>', "labelled images as train takes them: one folder per class, or DIR/train + DIR/val (+ DIR/test); calibration, fine-tuning and the before/after scores")
  .requiredOption('--out <dir>', 'output folder (written whole or not at all)')
  .addOption(new Option('--by <criterion>', 'channel ranking: l1 (filter norm, BN scale folded in), bn-gamma (|γ|; needs unfolded BN layers), taylor (Taylor-FO on BN γ, from training images)').choices(PRUNE_CRITERIA).default('taylor'))
  .option('--epochs <n>', 'fine-tuning epochs, every layer trainable (0: prune only, for structure and speed measurements)', nonNegativeInt, 5)
  .option('--lr <rate>', 'fine-tuning learning rate (Adam)', nonNegativeNumber, 1e-4)
  .option('--batch <n>', 'images per batch', positiveInt, 32)
  .option('--val-split <fraction>', 'validation fraction when there is no val/ folder', fraction, 0.2)
  .option('--test-split <fraction>', 'test fraction when there is no test/ folder (scored before and after)', fraction)
  .option('--input-size <n>', 'input size for a source file that leaves it open (a model folder keeps its own)', positiveInt, 224)
  .option('--taylor-images <n>', '--by taylor: training images it reads', positiveInt, 128)
  .option('--patience <n>', 'early stopping patience (epochs)', positiveInt, DEFAULT_CALLBACKS.patience)
  .option('--no-augment', "turn off train's augmentation")
  .addOption(new Option('--augmentation <recipe>', "fine-tuning augmentation: train's (affine only) or the default model's recipe (affine, channel permutation, contrast reduction); default: the default model's for the default model, else train's").choices(['train', 'default-model']))
  .option('--distill <weight>', "learn the unpruned model's softened answers too (knowledge distillation): the teacher's share α of the fine-tuning loss (0 < α < 1; default: none)", fraction)
  .option('--temperature <T>', '--distill: the softening temperature', positiveNumber, 4)
  .option('--seed <n>', 'seed for the split, shuffling and augmentation', nonNegativeInt, 1)
  .addOption(new Option('--device <device>', 'as train').choices(DEVICE_CHOICES).default('auto'))
  .addOption(new Option('--calibration <method>', 'int8 calibration method').choices(CALIBRATION_METHODS).default('percentile'))
  .option('--calibration-images <n>', 'training images used for calibration', positiveInt, 200)
  .option('--name <name>', 'model name in the manifest (default: the model\'s, with -pruned-<keep>)')
  .option('--model-version <version>', 'model version in the manifest', '1.0.0')
  .action(async (o) => {
    try {
      const name = o.name ?? `${await modelName(o.model)}-pruned-${o.keep}${o.keepStream < 1 ? `-stream-${o.keepStream}` : ''}`;
      await pruneCommand({
        model: o.model, keep: o.keep, keepStream: o.keepStream, by: o.by, data: o.data, out: o.out, epochs: o.epochs, lr: o.lr, batch: o.batch, accumulate: 1, l2: 0, dropout: 0, valSplit: o.valSplit, testSplit: o.testSplit ?? 0,
        inputSize: o.inputSize, seed: o.seed, callbacks: { ...DEFAULT_CALLBACKS, patience: o.patience }, augment: o.augment, device: o.device, calibration: o.calibration,
        calibrationImages: o.calibrationImages, taylorImages: o.taylorImages, name, version: o.modelVersion, log,
        ...(o.distill !== undefined ? { distill: { weight: o.distill, temperature: o.temperature } } : {}),
        ...(o.augmentation ? { augmentation: o.augmentation === 'default-model' ? recipeAugmentation(FULL_RECIPE) : TRAIN_AUGMENTATION } : {}),
      });
    } catch (e) {
      if (!(e instanceof PruneInputError || e instanceof TrainInputError)) throw e;
      log(`prune: ${e.message}`);
      process.exitCode = 2;
    }
  });

/** The name in a model folder's manifest, else the file's base name. */
async function modelName(model: string): Promise<string> {
  const json = await readFile(join(model, 'manifest.json'), 'utf8').catch(() => null);
  if (json) {
    try {
      return parseManifest(JSON.parse(json)).name;
    } catch {
      /* the command reports the bad manifest */
    }
  }
  return model.replace(/\/+$/, '').split('/').at(-1)!.replace(/\.[a-z0-9]+$/i, '');
}

program
  .command('explain')
  .description('Grad-CAM: where in each image the evidence for a class lies (the float model), as a PNG overlay and a JSON heat map')
  .requiredOption('--model <dir>', 'model folder (manifest.json and the fp32 reference it names)')
  .requiredOption('--image <file...>', 'images to explain')
  .requiredOption('--out <dir>', 'where to write <name>.gradcam.png and <name>.gradcam.json')
  .option('--class <label>', 'explain this label instead of the predicted one')
  .option('--layer <name>', 'conv layer to explain at (a block output; default conv5_block3_out, or the last one at least 4×4 for small inputs)')
  .action(async (o) => {
    await explainCommand({ model: o.model, images: o.image, out: o.out, className: o.class, layer: o.layer, log });
  });

program
  .command('rank')
  .description('what to label next: score unlabelled images with a model folder (the Worker\'s decode, preprocessing and int8 engine) and list them most uncertain first')
  .requiredOption('--model <dir>', 'model folder (manifest.json and the int8 model it names)')
  .requiredOption('--data <dir>', 'unlabelled images (JPEG/PNG, any subfolders)')
  .requiredOption('--out <file.csv>', 'CSV: file, predicted, uncertainty, then one probability column per label')
  .addOption(new Option('--by <measure>', 'uncertainty measure').choices(UNCERTAINTY_MEASURES).default('entropy'))
  .option('--top <n>', 'list only the n most uncertain', positiveInt)
  .option('--copy-to <dir>', 'copy the listed images into DIR/<predicted label>/ for a person to correct')
  .action(async (o) => {
    await rankCommand({ model: o.model, data: o.data, out: o.out, by: o.by, top: o.top, copyTo: o.copyTo, log });
  });

program
  .command('import')
  .description('a trained ResNet classifier (Keras .h5 / .keras, a torchvision or timm ONNX export, a Hugging Face folder, or imagenet) → a servable int8 model folder, checked against the source')
  .option('--weights <source>', "FILE or DIR: a Keras whole-model .h5 or .keras, an ONNX export (torch.onnx.export of a torchvision or timm ResNet), a Hugging Face ResNetForImageClassification folder; or imagenet (Keras' ResNet50 with top, downloaded once, md5-checked)", 'imagenet')
  .option('--calibration <dir>', 'required: your own images (flat, or one folder per class) for the int8 scales; a fifth are held out to measure int8↔fp32 agreement')
  .requiredOption('--out <dir>', 'output folder: model-fp32.onnx, model-int8.onnx (+ the split form), manifest.json, metrics.json (written whole or not at all)')
  .option('--labels <file>', 'labels, one a line, in the order of the outputs')
  .option('--labels-from <dir>', "labels from a training folder's class folders (sorted, as flow_from_directory and ImageFolder number them)")
  .addOption(new Option('--recipe <recipe>', "preprocessing of another recipe than the file's: keras (nearest resize, caffe), torchvision (Resize 256 + CenterCrop 224, bilinear), timm (bicubic, crop 0.95)").choices(RECIPES))
  .addOption(new Option('--resize-filter <filter>', "resize filter (nearest, bilinear, bicubic: Pillow's, bit for bit; area: box average)").choices(['area', 'nearest', 'bilinear', 'bicubic']))
  .option('--crop-pct <fraction>', 'centre crop as a share of the resized shorter side (torchvision 0.875, timm 0.95; 1: no crop)', (v: string) => {
    const n = Number(v);
    if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in (0, 1], got ${v}`);
    return n;
  })
  .option('--input-size <n>', "input size where the file leaves it open (an ONNX file's own size wins)", positiveInt)
  .addOption(new Option('--depth <n>', "the depth expected (an error when the file holds another); imagenet downloads Keras' ResNet50, 101 or 152").choices(['50', '101', '152']))
  .option('--calibration-images <n>', 'at most this many calibration images', positiveInt, 200)
  .addOption(new Option('--method <method>', 'calibration method').choices(CALIBRATION_METHODS).default('percentile'))
  .option('--name <name>', 'model name in the manifest', 'resnet50-imported')
  .option('--model-version <version>', 'model version in the manifest', '1.0.0')
  .action(async (o) => {
    try {
      await importCommand({
        weights: o.weights, calibration: o.calibration, out: o.out, inputSize: o.inputSize, depth: o.depth ? (Number(o.depth) as ResNetDepth) : undefined, labels: o.labels, labelsFrom: o.labelsFrom,
        recipe: o.recipe, filter: o.resizeFilter, cropPct: o.cropPct, calibrationImages: o.calibrationImages, method: o.method, name: o.name, version: o.modelVersion, log,
      });
    } catch (e) {
      if (!(e instanceof ImportInputError)) throw e;
      log(`import: ${e.message}`);
      process.exitCode = 2;
    }
  });

program
  .command('publish')
  .description('upload a model folder to the MODELS R2 bucket: content-addressed model first, manifest last')
  .requiredOption('--model-dir <dir>', 'folder holding manifest.json and the model it names')
  .option('--remote', 'publish to Cloudflare R2 (default: the local R2 that wrangler dev uses)', false)
  .option('--bucket <name>', 'bucket name (default: the MODELS binding in wrangler.toml)')
  .option('--persist-to <dir>', 'local state folder, as given to wrangler dev --persist-to')
  .action(async (o: { modelDir: string; remote: boolean; bucket?: string; persistTo?: string }) => {
    try {
      const manifest = await publishModel({ ...o, log });
      process.stdout.write(`${JSON.stringify({ published: manifest.name, version: manifest.version, sha256: manifest.sha256 })}\n`);
    } catch (e) {
      if (!(e instanceof ModelTooLargeError)) throw e;
      log(`publish: ${e.code}: ${e.message}`);
      process.exitCode = 2;
    }
  });

program
  .command('batch')
  .description('classify a folder (uploaded to the IMAGES bucket) or a prefix already there as a batch job on the running Worker; writes the results as JSONL')
  .option('--images <dir>', 'folder to upload (every file; keys: the prefix + its path in the folder)')
  .option('--prefix <p>', 'key prefix in the IMAGES bucket (default with --images: "<folder name>/"); alone: classify what is already there')
  .option('--url <url>', 'the Worker (npm start, or the deployed one)', 'http://127.0.0.1:8787')
  .option('--remote', 'upload to the real R2 bucket (wrangler must be logged in); give --url of the deployed Worker', false)
  .option('--persist-to <dir>', "wrangler dev's local state folder, for local uploads", '.wrangler/state')
  .option('--top <n>', 'ranked labels per image', positiveInt, 5)
  .requiredOption('--out <file>', 'results file (JSONL, one line per key)')
  .option('--api-key <key>', 'when the Worker has an API_KEY (default: $EDGE_RESNET_API_KEY)')
  .action(async (o: { images?: string; prefix?: string; url: string; remote: boolean; persistTo: string; top: number; out: string; apiKey?: string }) => {
    try {
      const apiKey = o.apiKey ?? process.env.EDGE_RESNET_API_KEY;
      const summary = await batchCommand({ ...o, ...(apiKey ? { apiKey } : {}), log });
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      if (summary.state !== 'done') process.exitCode = 1;
    } catch (e) {
      if (e instanceof BatchInputError || (e instanceof JobApiError && e.status >= 400 && e.status < 500)) {
        log(`batch: ${e.message}`);
        process.exitCode = 2;
        return;
      }
      throw e;
    }
  });

await program.parseAsync(process.argv);
