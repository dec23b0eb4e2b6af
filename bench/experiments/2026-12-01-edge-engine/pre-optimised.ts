/**
 * `npx tsx bench/experiments/2026-12-01-edge-engine/pre-optimised.ts [--model FILE] [--json FILE]`: would a pre-optimised model file shorten session
 * creation? onnxruntime-node saves the int8 model after its `basic` and `extended` graph optimisations (QDQ
 * fusion into QLinearConv / QGemm / QLinearAdd…; `all` would add x86-only NCHWc ops, so it is not used), then
 * onnxruntime-web (the Worker's engine, in Node, after the engine has started) creates sessions from each file:
 * creation time, median inference, the ops the file holds and the outputs' largest difference from the original.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ort from 'onnxruntime-web/wasm';
import { decodeModel } from '../../../training/onnx/proto.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const source = arg('--model') ?? 'model/bench/resnet50-224-int8.onnx';
const dir = mkdtempSync(join(tmpdir(), 'pre-optimised-'));
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const files: Record<string, string> = { original: source };
for (const level of ['basic', 'extended'] as const) {
  files[level] = join(dir, `${level}.onnx`);
  await (await ortNode.InferenceSession.create(source, { graphOptimizationLevel: level, optimizedModelFilePath: files[level], intraOpNumThreads: 1, logSeverityLevel: 3 })).release();
}
const size = Number(decodeModel(new Uint8Array(readFileSync(source))).graph!.input![0]!.type!.tensorType!.shape!.dim![2]!.dimValue);
const input = new Float32Array(3 * size * size).map((_, i) => ((i * 7919) % 255) - 120);

async function measure(file: string) {
  const bytes = new Uint8Array(readFileSync(file));
  const t = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const createMs = performance.now() - t;
  const times: number[] = [];
  let output = new Float32Array(0);
  for (let i = 0; i < 10; i++) {
    const a = performance.now();
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, size, size]) });
    if (i >= 2) times.push(performance.now() - a);
    output = Float32Array.from(out[session.outputNames[0]!]!.data as Float32Array);
  }
  await session.release();
  times.sort((a, b) => a - b);
  const ops = [...new Set(decodeModel(bytes).graph!.node!.map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`))].sort();
  return { createMs, inferMs: times[times.length >> 1]!, output, ops, bytes: bytes.byteLength };
}

await measure(source); // start the engine first, so that no row pays for it
const rows = [];
const reference = await measure(source);
for (const [name, file] of Object.entries(files)) {
  const m = name === 'original' ? reference : await measure(file);
  const again = await measure(source); // A/B: the original right after each, so drift shows
  rows.push({ file: name, bytes: m.bytes, create_ms: Math.round(m.createMs), original_create_ms_after: Math.round(again.createMs), infer_ms: Math.round(m.inferMs), max_abs_delta: Math.max(...m.output.map((v, i) => Math.abs(v - reference.output[i]!))), ops: m.ops });
}
rmSync(dir, { recursive: true, force: true });
const report = JSON.stringify({ model: source, date: new Date().toISOString(), rows }, null, 2);
process.stdout.write(`${report}\n`);
const json = arg('--json');
if (json) writeFileSync(json, `${report}\n`);
