/**
 * `node [V8 flags] --import tsx bench/lib/ort-web-node.ts MODEL.onnx|MODEL_DIR [--form original|worker] [--size PX] [--runs N]`:
 * ORT-web inference in Node (the Worker's wasm engine and session options, 1 thread) on a constant input, as one
 * JSON line (median and fastest run). Given a model folder, `--form worker` loads what the Worker loads (the
 * manifest's pre-optimised graph and external weights), `original` its self-contained int8 file. bench/run.ts and
 * bench/engine-gap.ts run it with `--wasm-enforce-bounds-checks` too: V8 then guards every wasm memory access with
 * an explicit bounds check instead of its trap handler's guard pages, which is how the engine's times in workerd compare.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExternalData } from '../../src/ort/session-options.js';
import { createWasmSession, WORKER_SESSION_OPTIONS } from '../../training/ort/web.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const [target] = process.argv.slice(2);
const runs = Number(arg('--runs') ?? 15);
const form = arg('--form') ?? 'original';
let size = Number(arg('--size') ?? 224);
let model: Uint8Array;
let options = WORKER_SESSION_OPTIONS;
let externalData: ExternalData | undefined;
if (statSync(target!).isDirectory()) {
  const manifest = JSON.parse(readFileSync(join(target!, 'manifest.json'), 'utf8'));
  size = manifest.preprocess.width;
  if (form === 'worker' && manifest.externalData) {
    model = new Uint8Array(readFileSync(join(target!, manifest.externalData.graph.file)));
    externalData = { path: manifest.externalData.weights.file, data: new Uint8Array(readFileSync(join(target!, manifest.externalData.weights.file))) };
    options = { ...options, preOptimised: manifest.externalData.preOptimised !== undefined };
  } else model = new Uint8Array(readFileSync(join(target!, manifest.file)));
} else model = new Uint8Array(readFileSync(target!));
const session = await createWasmSession(model, options, externalData);
const dims = [1, 3, size, size];
const input = new Float32Array(3 * size * size).fill(0.5);
const times: number[] = [];
for (let i = 0; i < runs + 3; i++) {
  const t = performance.now();
  await session.run(input, dims);
  if (i >= 3) times.push(performance.now() - t); // after V8's tier-up (the first runs are baseline code)
}
await session.release();
times.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ node: process.version, v8: process.versions.v8, form: externalData ? 'worker' : 'original', flags: process.execArgv.filter((a) => a.startsWith('--wasm')), median_ms: times[times.length >> 1], min_ms: times[0] })}\n`);
