/**
 * `node [V8 flags] --import tsx bench/ort-web-node.ts MODEL.onnx [--size PX] [--runs N]`: median ORT-web inference in Node
 * (the Worker's wasm engine and session options, 1 thread) on a constant input, as one JSON line. bench/run.ts
 * runs it with `--wasm-enforce-bounds-checks` too: V8 then guards every wasm memory access with an explicit
 * bounds check instead of its trap handler's guard pages, which is how the engine's times in workerd compare.
 */
import { readFileSync } from 'node:fs';
import { createWasmSession } from '../training/ort-web.js';

const [file] = process.argv.slice(2);
const runs = Number(process.argv.includes('--runs') ? process.argv[process.argv.indexOf('--runs') + 1] : 15);
const bytes = new Uint8Array(readFileSync(file!));
const session = await createWasmSession(bytes);
const size = Number(process.argv.includes('--size') ? process.argv[process.argv.indexOf('--size') + 1] : 224);
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
process.stdout.write(`${JSON.stringify({ flags: process.execArgv.filter((a) => a.startsWith('--wasm')), median_ms: times[times.length >> 1] })}\n`);
