/**
 * Training throughput of the default model's recipe by data-parallel worker count: the recipe's 32 images per
 * step shared by 1, 2, 4 and 8 workers (those this machine's cores allow), each timed over 8 real steps of
 * train/parallel-fit.ts on synthetic images (build-estimate's probe), as images per second.
 * Usage: npx tsx bench/experiments/pipeline/train-workers.ts [--json bench/results/train-workers.json]
 */
import { availableParallelism, cpus } from 'node:os';
import { estimateBuild } from '../../../training/default-model/estimate.js';
import { FULL_RECIPE, modelOptionsOf } from '../../../training/default-model/recipe.js';
import { writeJsonAtomic } from '../../../training/model-folder/files.js';
import { workerSplit } from '../../../training/train/workers.js';

const batch = FULL_RECIPE.workers * FULL_RECIPE.batchPerWorker;
const rows: Array<{ workers: number; batch_per_worker: number; step_seconds: number; images_per_second: number }> = [];
for (const workers of [1, 2, 4, 8].filter((w) => w <= availableParallelism())) {
  const split = workerSplit(batch, workers, Infinity, workers);
  const e = await estimateBuild({ model: modelOptionsOf(FULL_RECIPE), ...split, augment: FULL_RECIPE.augment, steps: 1, shapesToDraw: 0 });
  rows.push({ workers, batch_per_worker: split.batchPerWorker, step_seconds: e.step_seconds, images_per_second: Math.round((batch / e.step_seconds) * 10) / 10 });
  console.log(JSON.stringify(rows.at(-1)));
}
const result = { command: 'npx tsx bench/experiments/pipeline/train-workers.ts --json bench/results/train-workers.json', date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism() }, images_per_step: batch, rows };
const json = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
if (json) await writeJsonAtomic(json, result);
