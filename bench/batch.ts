/**
 * A 1,000-image batch job on the default model, measured in one run: `npx tsx bench/batch.ts --json
 * bench/results/batch.json` (after `npm run model`; needs ../shared/corpora).
 *
 * The Worker runs as `npm start` runs it (wrangler dev: local R2, queue and Durable Object, no debugger). 1,000
 * files evenly spread over the sorted corpora — photos, conformance sets, fuzz and truncated files — go into the
 * IMAGES bucket; `pipeline batch --prefix` runs the job. Then every file is posted to /predict one by one: each
 * good image's line must equal /predict's answer, and the CPU of the same files through /predict is the
 * reference for what the job adds. CPU: user + system of the workerd process over the job (it also runs the local
 * R2, queue and Durable Object simulators, so this bounds the consumer's billed CPU from above).
 *
 * Price per million images on Workers Paid, from this run's figures and the published rates (sources in
 * `pricing`): CPU, consumer invocations, Queues operations, R2 reads and writes, Durable Object requests,
 * duration and SQLite rows written — beside Workers AI's $2.51.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { JobStatus } from '../src/batch/types.js';
import { parseManifest } from '../src/core/manifest.js';
import { downloadResults, followJob, startJob } from '../training/batch/client.js';
import { uploadObjects } from '../training/batch/upload.js';
import { CORPORA_DIR, corpusFiles, hasCorpora } from './lib/corpus-files.js';
import { startWorker } from './lib/worker-server.js';

const options = new Command('batch')
  .option('--json <file>', 'results file', 'bench/results/batch.json')
  .option('--images <n>', 'files in the job', '1000')
  .option('--model-dir <dir>', 'model folder (model/bench: the 224 px one)', 'model')
  .parse(process.argv)
  .opts<{ json: string; images: string; modelDir: string }>();

if (!hasCorpora()) {
  console.error(`bench/batch.ts needs ${CORPORA_DIR} (third-party images); it is not here`);
  process.exit(2);
}

/** Published rates (USD), Workers Paid, beyond the monthly included amounts. */
const PRICING = {
  workers_usd_per_million_requests: 0.3,
  workers_usd_per_million_cpu_ms: 0.02,
  queues_usd_per_million_operations: 0.4,
  queues_operations_per_message: 3,
  r2_class_a_usd_per_million: 4.5,
  r2_class_b_usd_per_million: 0.36,
  do_usd_per_million_requests: 0.15,
  do_usd_per_million_gb_s: 12.5,
  do_sqlite_usd_per_million_rows_written: 1.0,
  workers_ai_resnet50_usd_per_million: 2.51,
  sources: [
    'Workers: https://developers.cloudflare.com/workers/platform/pricing/ ($0.30/M requests, $0.02/M CPU-ms)',
    'Queues: CFD partials/workers/queues_pricing.mdx ($0.40/M operations, 3 per delivered message) — ../shared/reference/CLOUDFLARE-BATCH.md',
    'R2: CFD r2/pricing.mdx (Class A $4.50/M: put, list; Class B $0.36/M: get) — ../shared/reference/CLOUDFLARE-BATCH.md',
    'Durable Objects: https://developers.cloudflare.com/durable-objects/platform/pricing/ ($0.15/M requests incl. RPC calls and alarms; $12.50/M GB-s at 128 MB; SQLite rows written $1.00/M, the rate D1 bills)',
    "Workers AI: @cf/microsoft/resnet-50, $2.51 per million images (the issue's figure)",
  ],
};
/** The chunk and consumer batch sizes wrangler.toml configures. */
const toml = readFileSync('wrangler.toml', 'utf8');
const CHUNK_KEYS = Number(/^BATCH_CHUNK_KEYS = "(\d+)"/m.exec(toml)![1]);
const MAX_BATCH_SIZE = Number(/queue = "edge-resnet-batch"\nmax_batch_size = (\d+)/.exec(toml)![1]);

const files = corpusFiles();
const count = Math.min(Number(options.images), files.length);
const picked = Array.from({ length: count }, (_, i) => files[Math.floor((i * files.length) / count)]!);
const manifest = parseManifest(JSON.parse(await readFile(join(options.modelDir, 'manifest.json'), 'utf8')));

const worker = await startWorker(options.modelDir);
try {
  const client = { base: worker.base };
  await uploadObjects(
    picked.map((f) => ({ key: `bench/${f}`, file: join(CORPORA_DIR, f) })),
    { remote: false, persistTo: worker.persistTo, log: (l) => console.error(l) },
  );
  // Warm the model (the first request loads it) so the job measures steady state.
  await fetch(`${worker.base}/predict`, { method: 'POST', body: await readFile(join(CORPORA_DIR, picked.find((f) => f.startsWith('photos/'))!)) });

  const cpuBefore = worker.cpuMs();
  const started = Date.now();
  const job = await startJob(client, 'bench/', 5);
  const readings: JobStatus[] = [];
  const final = await followJob(client, job.id, (s) => readings.push(s), { pollMs: 500 });
  const wallS = (Date.now() - started) / 1000;
  const jobCpuMs = worker.cpuMs() - cpuBefore;
  const out = join(worker.persistTo, 'results.jsonl');
  await downloadResults(client, job.id, out);
  const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);

  // The same files through /predict, one at a time: the reference answers and the reference CPU.
  const predictCpuBefore = worker.cpuMs();
  let compared = 0;
  let equal = 0;
  const mismatches: string[] = [];
  for (const f of picked) {
    const line = lines.find((l) => l.key === `bench/${f}`);
    const response = await fetch(`${worker.base}/predict?top=5`, { method: 'POST', body: await readFile(join(CORPORA_DIR, f)) });
    const answer = (await response.json()) as Record<string, any>;
    if (!line || line.error || response.status !== 200) continue;
    compared++;
    const same = JSON.stringify([line.label, line.confidence, line.top]) === JSON.stringify([answer.label, answer.confidence, answer.top]);
    if (same) equal++;
    else mismatches.push(f);
  }
  const predictCpuMs = worker.cpuMs() - predictCpuBefore;
  // The isolate after the job and the same files through /predict: the wasm heap never shrinks, so it is the most
  // the session and the decodes took; the V8 heap as it stands (read over the inspector: attached only now).
  const wasmHeapMb = (await worker.wasmHeap()) / 2 ** 20;
  await worker.collectGarbage();
  const jsHeap = await worker.jsHeap();

  const codes: Record<string, number> = {};
  for (const l of lines) if (l.error) codes[l.error.code] = (codes[l.error.code] ?? 0) + 1;
  const chunkKeys = CHUNK_KEYS;
  const chunks = Math.ceil(final.counts.listed / chunkKeys);
  const cpuPerImage = jobCpuMs / final.counts.listed;
  const imagesPerSecond = final.counts.listed / wallS;
  const perMillion = (perImage: number, usdPerMillion: number) => perImage * usdPerMillion;
  const chunksPerImage = chunks / final.counts.listed;
  const price = {
    cpu: perMillion(cpuPerImage, PRICING.workers_usd_per_million_cpu_ms),
    consumer_invocations: perMillion(chunksPerImage / MAX_BATCH_SIZE, PRICING.workers_usd_per_million_requests),
    queues: perMillion(chunksPerImage * PRICING.queues_operations_per_message, PRICING.queues_usd_per_million_operations),
    r2_class_a: perMillion(chunksPerImage + 1 / 1000, PRICING.r2_class_a_usd_per_million), // a part per chunk, a list per 1,000 keys
    r2_class_b: perMillion(1, PRICING.r2_class_b_usd_per_million), // a get per image
    do_requests: perMillion(2 * chunksPerImage + 1 / 1000, PRICING.do_usd_per_million_requests), // begin + finish per chunk, an alarm per page
    // Upper bound: the object active for the whole job at this run's single-consumer rate (faster with more consumers).
    do_duration: perMillion((0.128 * 1) / imagesPerSecond, PRICING.do_usd_per_million_gb_s),
    do_rows_written: perMillion(final.storage_rows_written / final.counts.listed, PRICING.do_sqlite_usd_per_million_rows_written),
  };
  const total = Object.values(price).reduce((a, b) => a + b, 0);
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  const result = {
    command: `npx tsx bench/batch.ts ${process.argv.slice(2).join(' ')}`,
    date: new Date().toISOString().slice(0, 10),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    model: { name: manifest.name, version: manifest.version, sha256: manifest.sha256, input: manifest.input.shape.slice(2).join('×') },
    job: {
      files: picked.length,
      counts: final.counts,
      error_codes: codes,
      lines: lines.length,
      distinct_keys: new Set(lines.map((l) => l.key)).size,
      wall_s: round(wallS, 1),
      images_per_second: round(imagesPerSecond, 1),
      status_readings: readings.length,
      readings_mid_job: readings.filter((r) => r.counts.done + r.counts.failed > 0 && r.counts.done + r.counts.failed < r.counts.listed).length,
      chunk_keys: chunkKeys,
      chunks_per_consumer_call: MAX_BATCH_SIZE,
      chunks,
      workerd_cpu_ms_per_image: round(cpuPerImage, 2),
      storage_rows_written: final.storage_rows_written,
    },
    predict: { files: picked.length, workerd_cpu_ms_per_image: round(predictCpuMs / picked.length, 2) },
    isolate_after: { wasm_heap_mb: round(wasmHeapMb, 1), js_heap_total_mb: round(jsHeap.total / 2 ** 20, 1), array_buffers_mb: round(jsHeap.backingStores / 2 ** 20, 1), limit_mb: 128 },
    agreement: { good_images_compared: compared, equal_to_predict: equal, mismatches: mismatches.slice(0, 10) },
    usd_per_million_images: { ...Object.fromEntries(Object.entries(price).map(([k, v]) => [k, round(v)])), total: round(total, 2) },
    predict_usd_per_million_requests: round(PRICING.workers_usd_per_million_requests + PRICING.workers_usd_per_million_cpu_ms * (predictCpuMs / picked.length), 2),
    pricing: PRICING,
  };
  writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify({ counts: final.counts, wall_s: result.job.wall_s, images_per_second: result.job.images_per_second, cpu: result.job.workerd_cpu_ms_per_image, predict_cpu: result.predict.workerd_cpu_ms_per_image, agreement: result.agreement, usd: result.usd_per_million_images }, null, 1));
} finally {
  await worker.stop();
}
