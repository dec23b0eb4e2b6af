/**
 * `npx tsx bench/experiments/performance/cold-start.ts [--model-dir model/bench] [--runs 3] [--json FILE]`: the cold start of a fresh
 * workerd isolate (wrangler dev, no debugger) with the model's pre-optimised graph against the plain split form
 * of the same int8 file (what the pipeline wrote before), alternating, so both see the same host. Per run: the
 * first /predict's wall time, the Worker's own split of its load, the first and the next five inferences, and
 * the wasm heap afterwards (linear memory never shrinks: its size is the peak).
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../../../src/core/manifest.js';
import { splitExternalData } from '../../../training/onnx/external-data.js';
import { photoJpeg } from '../../lib/photo.js';
import { startWorker } from '../../lib/worker-server.js';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const modelDir = arg('--model-dir', 'model/bench');
const runs = Number(arg('--runs', '3'));
const manifest = parseManifest(JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')));
const split = manifest.externalData;
if (!split?.preOptimised) throw new Error(`${modelDir}/manifest.json names no pre-optimised graph: rebuild it (npm run model)`);

/** The same model folder with the plain split form: the int8 file's own graph, ORT optimising it at load. */
const plainDir = mkdtempSync(join(tmpdir(), 'cold-start-plain-'));
cpSync(modelDir, plainDir, { recursive: true });
const plain = splitExternalData(new Uint8Array(readFileSync(join(modelDir, manifest.file))), split.weights.file);
const ref = (bytes: Uint8Array, file: string) => ({ file, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength });
writeFileSync(join(plainDir, split.graph.file), plain.graph);
writeFileSync(join(plainDir, split.weights.file), plain.weights);
writeFileSync(join(plainDir, 'manifest.json'), JSON.stringify({ ...manifest, externalData: { graph: ref(plain.graph, split.graph.file), weights: ref(plain.weights, split.weights.file) } }));

const jpeg = await photoJpeg(manifest.preprocess.width, manifest.preprocess.height);
interface Timing {
  timing: { inference_ms: number };
}

async function coldStart(dir: string) {
  const worker = await startWorker(dir);
  try {
    const t = performance.now();
    const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg });
    if (res.status !== 200) throw new Error(`/predict answered ${res.status}: ${await res.text()}`);
    const first = (await res.json()) as Timing;
    const coldMs = performance.now() - t;
    const next: number[] = [];
    for (let i = 0; i < 5; i++) next.push(((await (await fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg })).json()) as Timing).timing.inference_ms);
    const debug = (await (await fetch(`${worker.base}/debug/memory`)).json()) as { wasm_heap_bytes: number; lastLoad: Record<string, number> };
    if (worker.debuggerAttached()) throw new Error('a DevTools client attached');
    const r1 = (x: number) => Math.round(x * 10) / 10;
    return { cold_start_ms: r1(coldMs), ...Object.fromEntries(Object.entries(debug.lastLoad).map(([k, v]) => [k, r1(v)])), first_inference_ms: first.timing.inference_ms, next_inference_ms: next, wasm_heap_mb: r1(debug.wasm_heap_bytes / 2 ** 20) };
  } finally {
    await worker.stop();
  }
}

const rows: Array<Record<string, unknown>> = [];
try {
  for (let run = 0; run < runs; run++) {
    for (const [form, dir] of [['pre-optimised', modelDir], ['plain', plainDir]] as const) {
      const row = { form, run, ...(await coldStart(dir)) };
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  }
} finally {
  rmSync(plainDir, { recursive: true, force: true });
}
const median = (form: string, key: string) => {
  const v = rows.filter((r) => r.form === form).map((r) => r[key] as number).sort((a, b) => a - b);
  return v[v.length >> 1]!;
};
const keys = ['cold_start_ms', 'r2_read_ms', 'session_create_ms', 'first_inference_ms', 'wasm_heap_mb'];
const summary = Object.fromEntries(['pre-optimised', 'plain'].map((form) => [form, Object.fromEntries(keys.map((k) => [`${k}_median`, median(form, k)]))]));
console.log(JSON.stringify(summary, null, 2));
const json = arg('--json', '');
if (json) writeFileSync(json, `${JSON.stringify({ model: `${manifest.name}@${manifest.version}`, preOptimised: split.preOptimised, date: new Date().toISOString(), runs, summary, rows }, null, 2)}\n`);
