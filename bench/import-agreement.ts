/**
 * `npx tsx bench/import-agreement.ts [--size 64] [--steps 300] [--per-class 200] [--prune-epochs 2] [--prune-keep 0.5] [--json bench/results/import-agreement.json] [--work DIR]`:
 * does a model fine-tuned in PyTorch answer at the edge as it answers in PyTorch? A torchvision ResNet50 with a
 * 5-class `fc` is fine-tuned in PyTorch (Debian's python3-torch, AdamW, one cycle) on drawn shapes. No pretrained
 * weights can be downloaded here, so its trunk starts from the default model's (model/, `npm run model`: our v1
 * network's weights in torchvision's modules, the stem refolded for RGB ImageNet-normalised input; the stride then
 * sits where torchvision puts it). It is exported with `torch.onnx.export` and also saved as a Hugging Face
 * folder; each is imported (`pipeline import`), published to a Worker (wrangler dev, workerd) and asked over HTTP
 * about held-out images no step saw, as drawn (JPEG: the Worker decodes with jpeg-js, PyTorch's loader with
 * libjpeg) and as PNG of the same pixels. The Worker's top-1 is compared with PyTorch's own top-1 (PIL +
 * torchvision's eval transform on the same files) and with the truth. Then the imported network is pruned
 * (`pipeline prune`, Taylor, inner widths × --prune-keep) and fine-tuned on the same training images, and served
 * and compared the same way, with prune's own int8↔fp32 agreement. `--work DIR` keeps the data and PyTorch's
 * model there and reuses them when present (a rerun of the rows after a pipeline change skips PyTorch's ~20 min).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import { readFolderDataset } from '../training/data/folder.js';
import { writeShapesDataset } from '../training/data/write-shapes.js';
import { importCommand } from '../training/commands/import.js';
import { pruneCommand } from '../training/commands/prune.js';
import { DEFAULT_CALLBACKS } from '../training/train/callbacks.js';
import { startWorker } from './lib/worker-server.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const size = Number(arg('--size') ?? 64);
const steps = Number(arg('--steps') ?? 300);
const init = arg('--init') ?? 'model/resnet50-shapes-fp32.onnx';
const perClass = Number(arg('--per-class') ?? 200);
const testPerClass = Number(arg('--test-per-class') ?? 60);
// The imported torchvision network pruned by `pipeline prune` (Taylor, inner widths × keep) and fine-tuned on the
// same training images for this many epochs, then served like the others (0: no pruned row).
const pruneEpochs = Number(arg('--prune-epochs') ?? 2);
const pruneKeep = Number(arg('--prune-keep') ?? 0.5);
const log = (line: string) => process.stderr.write(`${line}\n`);
const python = '/usr/bin/python3';

if (!existsSync(init)) throw new Error(`${init} is missing: \`npm run model\` builds it (the trunk the PyTorch model is fine-tuned from)`);
const kept = arg('--work');
const work = kept ?? mkdtempSync(join(tmpdir(), 'import-agreement-'));
try {
  log(`data: ${perClass} training and ${testPerClass} held-out shapes per class in ${work}`);
  if (!existsSync(join(work, 'shapes'))) await writeShapesDataset({ dir: join(work, 'shapes'), seed: 20261207, splits: [{ name: 'train', perClass }, { name: 'test', perClass: testPerClass }], minSize: 64, maxSize: 200 });
  // The held-out set as drawn (JPEG: the Worker decodes it with jpeg-js, PyTorch's loader with libjpeg) and the
  // same pixels as PNG (lossless: both sides decode the same values, so only preprocessing and int8 differ).
  const test = await readFolderDataset(join(work, 'shapes', 'test'));
  const pngs: string[] = [];
  for (const f of test.files) {
    // Beside the drawn set, not in it: a rerun with --work reads the drawn files only.
    const out = join(work, 'test-png', f.label.toString(), basename(f.path).replace(/\.\w+$/, '.png'));
    mkdirSync(dirname(out), { recursive: true });
    if (!existsSync(out)) writeFileSync(out, await sharp(readFileSync(f.path)).png().toBuffer());
    pngs.push(out);
  }
  const files = [...pngs, ...test.files.map((f) => f.path)];
  const truth = [...test.files, ...test.files].map((f) => f.label);

  const torchDir = join(work, 'torch');
  const job = { out: torchDir, classes: test.labels.length, size, seed: 1, init, train: { data: join(work, 'shapes', 'train'), steps, lr: 3e-4, batch: 32 }, predict: files };
  writeFileSync(join(work, 'job.json'), JSON.stringify(job));
  log(`pytorch: fine-tuning torchvision's resnet50 from ${init}'s trunk (${test.labels.length} classes, ${size}×${size}, ${steps} steps of 32) and predicting ${files.length} held-out images`);
  const timing = join(torchDir, 'train-seconds.json');
  if (!existsSync(timing)) {
    const trainStarted = Date.now();
    execFileSync(python, ['test/reference/torch_resnet.py', join(work, 'job.json')], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 << 26 });
    writeFileSync(timing, JSON.stringify((Date.now() - trainStarted) / 1000));
  } else log(`pytorch: reusing ${torchDir} (trained earlier with this job)`);
  const trainSeconds = JSON.parse(readFileSync(timing, 'utf8')) as number;
  const pytorch = JSON.parse(readFileSync(join(torchDir, 'predictions.json'), 'utf8')) as { top1: number[] };
  const state = JSON.parse(readFileSync(join(torchDir, 'state.json'), 'utf8')) as { torch: string; torchvision: string };
  const labels = readFileSync(join(torchDir, 'labels.txt'), 'utf8').trim().split('\n');

  /** Every held-out file over HTTP to a Worker serving `out`: its answers, compared with PyTorch's and the truth. */
  const served = async (source: string, out: string, extra: Record<string, unknown>) => {
    const worker = await startWorker(out);
    const answers: number[] = [];
    try {
      for (const file of files) {
        const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: readFileSync(file) });
        const body = (await res.json()) as { class: number; label: string };
        if (res.status !== 200) throw new Error(`${file}: ${res.status} ${JSON.stringify(body)}`);
        answers.push(labels.indexOf(body.label));
      }
    } finally {
      await worker.stop();
    }
    const share = (pred: (i: number) => boolean, from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k).filter(pred).length / (to - from);
    const half = test.files.length;
    rows.push({
      source,
      ...extra,
      agreement_with_pytorch_png: share((i) => answers[i] === pytorch.top1[i], 0, half),
      agreement_with_pytorch_jpeg: share((i) => answers[i] === pytorch.top1[i], half, 2 * half),
      accuracy_worker_png: share((i) => answers[i] === truth[i], 0, half),
      accuracy_pytorch_png: share((i) => pytorch.top1[i] === truth[i], 0, half),
      accuracy_worker_jpeg: share((i) => answers[i] === truth[i], half, 2 * half),
      accuracy_pytorch_jpeg: share((i) => pytorch.top1[i] === truth[i], half, 2 * half),
      answers,
    });
    log(`${source}: ${JSON.stringify(Object.fromEntries(Object.entries(rows.at(-1)!).filter(([k]) => k !== 'answers' && k !== 'reference_check')))}`);
  };

  const rows: Array<Record<string, unknown>> = [];
  for (const [source, weights] of [['torch.onnx.export', join(torchDir, 'model.onnx')], ['Hugging Face folder', join(torchDir, 'hf')]] as const) {
    const out = join(work, source === 'torch.onnx.export' ? 'imported-onnx' : 'imported-hf');
    const { metrics } = await importCommand({ weights, calibration: join(work, 'shapes', 'train'), out, labels: weights.endsWith('.onnx') ? join(torchDir, 'labels.txt') : undefined, calibrationImages: 200, method: 'percentile', name: 'torch-shapes', version: '1', log });
    await served(source, out, { reference_check: metrics.reference_check, int8_fp32_agreement_calibration_heldout: metrics.measured.agreement_int8_fp32 });
  }
  if (pruneEpochs > 0) {
    // The imported folder pruned and fine-tuned on the training images PyTorch saw (a fifth held back for validation).
    const out = join(work, 'imported-onnx-pruned');
    const started = Date.now();
    const r = await pruneCommand({
      model: join(work, 'imported-onnx'), out, data: join(work, 'shapes', 'train'), keep: pruneKeep, by: 'taylor', epochs: pruneEpochs, lr: 1e-4, batch: 32, accumulate: 1, l2: 0, dropout: 0, valSplit: 0.2, testSplit: 0,
      inputSize: size, seed: 1, callbacks: DEFAULT_CALLBACKS, augment: true, device: 'cpu', calibration: 'percentile', calibrationImages: 200, taylorImages: 128, name: 'torch-shapes-pruned', version: '1', log,
    });
    const validation = r.metrics.validation as { agreement_fp32_int8: number; count: number };
    await served(`torch.onnx.export, pruned to keep ${pruneKeep} (taylor, ${pruneEpochs} epochs)`, out, {
      gmac: { before: r.pruning.from.gmac, after: r.pruning.gmac }, prune_minutes: Math.round((Date.now() - started) / 6000) / 10,
      int8_fp32_agreement_validation: validation.agreement_fp32_int8, validation_images: validation.count,
    });
  }
  const [onnxRow, hfRow] = rows as Array<{ answers: number[] }>;
  const result = {
    command: `npx tsx bench/import-agreement.ts --size ${size} --steps ${steps} --per-class ${perClass} --prune-epochs ${pruneEpochs} --prune-keep ${pruneKeep}`,
    init,
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism() },
    pytorch: { torch: state.torch, torchvision: state.torchvision, train_seconds: Math.round(trainSeconds), steps, batch: 32, input: size, train_images: perClass * test.labels.length },
    heldout_images: test.files.length,
    rows: rows.map(({ answers: _a, ...r }) => r),
    hf_and_onnx_same_answers: onnxRow!.answers.filter((a, i) => a === hfRow!.answers[i]).length / onnxRow!.answers.length,
  };
  console.log(JSON.stringify(result, null, 2));
  const json = arg('--json');
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  if (!kept) rmSync(work, { recursive: true, force: true });
}
