/**
 * What pruning costs in accuracy where training is possible here: the default model (model/, `npm run model`)
 * pruned by `pipeline prune` to keep 0.75 and 0.5 of its bottlenecks' inner channels (Taylor) and fine-tuned on
 * its own recipe's data (the build's drawn train and validation splits), against the unpruned model. Every model
 * is served by workerd (wrangler dev) and asked about each test image over HTTP (/predict): int8 as the Worker
 * computes it, on the two test sets the build draws after every choice (our renderer, librsvg). Also the
 * criteria before any fine-tuning (`--epochs 0`): L1 against Taylor at both keeps, scored by the pipeline.
 * Usage: npx tsx bench/prune-accuracy.ts [--json bench/results/prune-accuracy.json] [--epochs 3] [--lr 1e-4]
 *   [--keeps 0.75,0.5] [--keep-stream 0.5] [--no-criteria] [--augmentation train|default-model] [--distill 0.5 [--temperature 4]]
 * (about 50 min on 2 cores; needs model/ and its build cache). Fine-tuning augments as `prune` does by default (the
 * default model's own recipe for the default model, since 2026-12-07; train's before), unless --augmentation says.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseManifest } from '../src/core/manifest.js';
import { pruneCommand, type PruneOptions } from '../training/commands/prune.js';
import { defaultModelCache } from '../training/default-model/build.js';
import { writeJsonAtomic } from '../training/model-folder/files.js';
import type { PruneCriterion } from '../training/prune/rank.js';
import { DEFAULT_CALLBACKS } from '../training/train/callbacks.js';
import { TRAIN_AUGMENTATION } from '../training/train/augment.js';
import { FULL_RECIPE, recipeAugmentation } from '../training/default-model/recipe.js';
import { startWorker } from './lib/worker-server.js';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const EPOCHS = Number(arg('--epochs', '3'));
const LR = Number(arg('--lr', '1e-4'));
const KEEPS = arg('--keeps', '0.75,0.5').split(',').map(Number);
const KEEP_STREAM = Number(arg('--keep-stream', '1'));
const CRITERIA = !process.argv.includes('--no-criteria');
const AUGMENTATION = arg('--augmentation', '');
const DISTILL = process.argv.includes('--distill') ? { weight: Number(arg('--distill', '')), temperature: Number(arg('--temperature', '4')) } : undefined;
const augmentation = AUGMENTATION === 'train' ? TRAIN_AUGMENTATION : AUGMENTATION === 'default-model' ? recipeAugmentation(FULL_RECIPE) : undefined;
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const log = (line: string) => process.stderr.write(`${line}\n`);

const model = 'model';
if (!statSync(join(model, 'manifest.json'), { throwIfNoEntry: false })) throw new Error('no model/: run `npm run model` first');
const cache = defaultModelCache();
for (const part of ['shapes/train', 'shapes/test', 'test-sets/shapes', 'test-sets/svg']) {
  if (!statSync(join(cache, part), { throwIfNoEntry: false })) throw new Error(`${join(cache, part)} is missing: run \`npm run model\` on this machine first`);
}
// The build's splits as `prune --data` reads them: train/ and val/ (the build's validation), test/ (its test set).
const work = mkdtempSync(join(tmpdir(), 'prune-accuracy-'));
const data = join(work, 'data');
mkdirSync(data);
for (const [link, target] of [['train', 'shapes/train'], ['val', 'shapes/test'], ['test', 'test-sets/shapes']] as const) symlinkSync(resolve(cache, target), join(data, link));
const TEST_SETS = { shapes: join(cache, 'test-sets', 'shapes'), svg: join(cache, 'test-sets', 'svg') };
const files = (dir: string) => readdirSync(dir).filter((c) => statSync(join(dir, c)).isDirectory()).flatMap((label) => readdirSync(join(dir, label)).filter((f) => /\.(png|jpe?g)$/i.test(f)).map((f) => ({ path: join(dir, label, f), label })));

/** Every test image over HTTP to a fresh Worker serving `dir`: top-1 per test set, and the median inference. */
async function servedTop1(dir: string) {
  const worker = await startWorker(dir);
  const result: Record<string, number> = {};
  const inference: number[] = [];
  try {
    for (const [name, folder] of Object.entries(TEST_SETS)) {
      let right = 0;
      const set = files(folder);
      for (const f of set) {
        const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: readFileSync(f.path) });
        const body = (await res.json()) as { label: string; timing: { inference_ms: number } };
        if (res.status !== 200) throw new Error(`${dir}: ${f.path} answered ${res.status}: ${JSON.stringify(body)}`);
        if (body.label === f.label) right++;
        inference.push(body.timing.inference_ms);
      }
      result[`http_top1_${name}`] = round(right / set.length);
      result[`http_count_${name}`] = set.length;
    }
  } finally {
    await worker.stop();
  }
  const total = result.http_count_shapes! + result.http_count_svg!;
  result.http_top1_all = round((result.http_top1_shapes! * result.http_count_shapes! + result.http_top1_svg! * result.http_count_svg!) / total);
  result.workerd_infer_p50_ms = round([...inference].sort((a, b) => a - b)[inference.length >> 1]!, 2);
  return result;
}

const options = (out: string, keep: number, by: PruneCriterion, epochs: number): PruneOptions => ({
  model, out, data, keep, by, epochs, lr: LR, batch: 32, accumulate: 1, l2: 0, dropout: 0, valSplit: 0.2, testSplit: 0, inputSize: 32, seed: 1,
  callbacks: DEFAULT_CALLBACKS, augment: true, device: 'cpu', calibration: 'percentile', calibrationImages: 100, taylorImages: 128, name: `resnet50-shapes-pruned-${keep}`, version: '1.0.0', log, keepStream: KEEP_STREAM,
  ...(augmentation ? { augmentation } : {}),
  ...(DISTILL && epochs > 0 ? { distill: DISTILL } : {}),
});

const manifest = parseManifest(JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')));
const rows: Record<string, unknown>[] = [];
try {
  log('unpruned: served');
  rows.push({ keep: 1, by: null, fine_tune_epochs: 0, gmac: manifest.network?.gmac ?? null, ...(await servedTop1(model)) });
  console.log(JSON.stringify(rows.at(-1)));

  const criteria: Record<string, unknown>[] = [];
  for (const keep of CRITERIA ? KEEPS : []) {
    for (const by of ['l1', 'taylor'] as const) {
      const out = join(work, `criterion-${by}-${keep}`);
      const r = await pruneCommand(options(out, keep, by, 0));
      rows[0]!.gmac ??= r.pruning.from.gmac; // the unpruned network's, counted by prune where its manifest predates the field
      criteria.push({ keep, by, gmac: r.pruning.gmac, test_top1_int8: round(r.pruning.after.top1_int8), test_top1_fp32: round(r.pruning.after.top1_fp32) });
      console.log(JSON.stringify(criteria.at(-1)));
      rmSync(out, { recursive: true, force: true });
    }
  }

  for (const keep of KEEPS) {
    const out = join(work, `pruned-${keep}`);
    const t0 = Date.now();
    const r = await pruneCommand(options(out, keep, 'taylor', EPOCHS));
    const minutes = round((Date.now() - t0) / 60_000, 1);
    const history = (r.history ?? []).map((h) => ({ epoch: h.epoch, val_accuracy: round(h.val_accuracy), seconds: Math.round(h.seconds) }));
    rows.push({ keep, ...(KEEP_STREAM < 1 ? { keep_stream: KEEP_STREAM, streams: (r.pruning as { streams?: string }).streams } : {}), by: 'taylor', fine_tune_epochs: EPOCHS, fine_tune_lr: LR, augmentation: (r.pruning as { augmentation?: unknown }).augmentation ?? null, distillation: (r.pruning as { distillation?: unknown }).distillation ?? null, gmac: r.pruning.gmac, widths: r.pruning.widths, prune_minutes: minutes, history, pipeline_test_top1_int8: round(r.pruning.after.top1_int8), ...(await servedTop1(out)) });
    console.log(JSON.stringify(rows.at(-1)));
  }
  const result = {
    command: `npx tsx bench/prune-accuracy.ts ${process.argv.slice(2).join(' ')}`,
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    model: `${manifest.name}@${manifest.version} (${manifest.sha256.slice(0, 12)}…)`,
    splits: 'fine-tuned on the build\'s train split, the best epoch by its validation split\'s loss; scored on its two test sets (seeds 20261202 our renderer, 20261203 librsvg), drawn after every choice',
    served: 'each model in workerd (wrangler dev), every test image POSTed to /predict: int8 through the Worker\'s decode, preprocessing and engine',
    rows,
    criteria_without_fine_tuning: criteria,
  };
  const json = process.argv.includes('--json') ? arg('--json', '') : '';
  if (json) await writeJsonAtomic(json, result);
} finally {
  rmSync(work, { recursive: true, force: true });
}
