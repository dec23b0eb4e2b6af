/**
 * `npm run levers [-- --json FILE]`: ORT-web session levers on the 224×224 int8 ResNet50, in one Node process
 * (onnxruntime-web's wasm engine, 1 thread, as in the Worker), each against the Worker's current settings:
 * session creation time and median inference (memory is measured inside workerd by `npm run bench`: the wasm
 * heap only grows, so one process cannot compare it across sessions). Every lever keeps the same
 * model file, so predictions must not change (checked: max |Δ| of the outputs against the baseline).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { parseManifest } from '../src/core/manifest.js';
import { ortSessionOptions } from '../src/ort/session-options.js';
import { WORKER_SESSION_OPTIONS } from '../training/ort/web.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const modelDir = arg('--model-dir') ?? (statSync('model/bench/manifest.json', { throwIfNoEntry: false }) ? 'model/bench' : '.cache/bench-model/bench');
const manifest = parseManifest(JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')));
const model = new Uint8Array(readFileSync(join(modelDir, manifest.file)));
const runs = Number(arg('--runs') ?? 15);
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

interface Lever {
  name: string;
  options: ort.InferenceSession.SessionOptions;
}

const worker = ortSessionOptions(WORKER_SESSION_OPTIONS);
const levers: Lever[] = [
  { name: `worker settings (all optimisations, prepacking ${WORKER_SESSION_OPTIONS.prepack ? 'on' : 'off'})`, options: worker },
  { name: `weight prepacking ${WORKER_SESSION_OPTIONS.prepack ? 'off (ORT_PREPACK=0)' : 'on (ORT_PREPACK=1)'}`, options: ortSessionOptions({ prepack: !WORKER_SESSION_OPTIONS.prepack }) },
  { name: 'static batch: freeDimensionOverrides {batch: 1}', options: { ...worker, freeDimensionOverrides: { batch: 1 } } },
  { name: 'graph optimisation "extended"', options: { ...worker, graphOptimizationLevel: 'extended' } },
  { name: 'graph optimisation "basic"', options: { ...worker, graphOptimizationLevel: 'basic' } },
  { name: 'memory pattern off', options: { ...worker, enableMemPattern: false } },
  { name: 'CPU memory arena off', options: { ...worker, enableCpuMemArena: false } },
];

const input = new Float32Array(3 * manifest.preprocess.width * manifest.preprocess.height).map((_, i) => ((i * 7919) % 255) - 120);
// Start the wasm engine first (its compile and instantiation would otherwise be charged to the first row).
await (await ort.InferenceSession.create(model, worker)).release();
async function measure(options: ort.InferenceSession.SessionOptions) {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model, options);
  const createMs = performance.now() - t0;
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [...manifest.input.shape]) };
  const times: number[] = [];
  let output: Float32Array | null = null;
  for (let i = 0; i < runs + 2; i++) {
    const t = performance.now();
    const out = await session.run(feeds);
    if (i >= 2) times.push(performance.now() - t);
    output = Float32Array.from(out[session.outputNames[0]!]!.data as Float32Array);
  }
  await session.release();
  times.sort((a, b) => a - b);
  return { createMs, p50: times[times.length >> 1]!, output: output! };
}

// Each lever runs right after a baseline run (A/B pairs), so drift within the process cancels in the ratio.
const rows: Array<Record<string, string | number>> = [];
for (const lever of levers.slice(1)) {
  const a = await measure(worker);
  const b = await measure(lever.options);
  const delta = b.output.reduce((m, v, i) => Math.max(m, Math.abs(v - a.output[i]!)), 0);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  rows.push({ lever: lever.name, baseline_create_ms: r1(a.createMs), create_ms: r1(b.createMs), baseline_infer_p50_ms: r1(a.p50), infer_p50_ms: r1(b.p50), speedup: Math.round((a.p50 / b.p50) * 100) / 100, max_abs_delta: delta });
  process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
}
const table = [
  '| lever (vs the Worker\'s settings, A/B in one process) | session create ms (baseline → lever) | inference p50 ms (baseline → lever) | speed-up | max abs Δ of outputs |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.lever} | ${r.baseline_create_ms} → ${r.create_ms} | ${r.baseline_infer_p50_ms} → ${r.infer_p50_ms} | ${r.speedup}× | ${Number(r.max_abs_delta).toExponential(1)} |`),
].join('\n');
process.stdout.write(`${table}\n`);
const json = arg('--json');
if (json) writeFileSync(json, `${JSON.stringify({ model: `${manifest.name}@${manifest.version}`, runs, rows }, null, 2)}\n`);
