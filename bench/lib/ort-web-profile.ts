/**
 * `node --import tsx bench/lib/ort-web-profile.ts MODEL_DIR [--runs N]`: where ORT-web's time goes, by its own
 * profiler (session option `enableProfiling`; the wasm build writes the trace to stdout with fs.writeSync when
 * profiling ends, which this script captures). The folder's self-contained int8 file, the Worker's session options, 1 thread, a constant
 * input; the last N runs after 3 to tier up. One JSON line: milliseconds per run by operator type, by the layer's
 * role in a Keras-named ResNet (the stem, the projections, each block's 1×1 reading the stream, its 3×3, its 1×1
 * writing the stream, the adds: what `prune --keep` shrinks and what only `--keep-stream` does), and the slowest
 * layers with their input and output shapes. The profiler's own bookkeeping adds to each kernel's time: read the
 * shares, and time whole runs with bench/lib/ort-web-node.ts.
 */
import fs, { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web/wasm';
import { ortSessionOptions } from '../../src/ort/session-options.js';
import { WORKER_SESSION_OPTIONS } from '../../training/ort/web.js';

interface ProfileEvent { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string; input_type_shape?: Array<Record<string, number[]>>; output_type_shape?: Array<Record<string, number[]>> } }

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const [folder] = process.argv.slice(2);
const runs = Number(arg('--runs') ?? 5);
const manifest = JSON.parse(readFileSync(join(folder!, 'manifest.json'), 'utf8')) as { file: string; preprocess: { width: number } };
const size = manifest.preprocess.width;
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(folder!, manifest.file))), { ...ortSessionOptions(WORKER_SESSION_OPTIONS), enableProfiling: true });
const input = new ort.Tensor('float32', new Float32Array(3 * size * size).fill(0.5), [1, 3, size, size]);
for (let i = 0; i < runs + 3; i++) await session.run({ [session.inputNames[0]!]: input });
// The trace arrives through fs.writeSync(1, …) while endProfiling runs: keep it instead of printing it.
let trace = '';
const writeSync = fs.writeSync;
fs.writeSync = ((fd: number, data: string, ...rest: never[]) => (fd === 1 ? ((trace += data), data.length) : writeSync(fd, data, ...rest))) as typeof fs.writeSync;
syncBuiltinESMExports();
session.endProfiling();
fs.writeSync = writeSync;
syncBuiltinESMExports();
await session.release();

const events = JSON.parse(trace.slice(trace.indexOf('['), trace.lastIndexOf(']') + 1)) as ProfileEvent[];
const measured = events.filter((e) => e.name === 'model_run').slice(-runs);
const inMeasured = (e: ProfileEvent) => measured.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur);
const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && inMeasured(e));
const round = (x: number) => Math.round(x * 100) / 100;
/** What a layer is in the network, from its Keras name (ORT appends `_token_N` to the nodes it rewrote). */
function roleOf(layer: string): string {
  if (layer.startsWith('conv1_')) return 'stem 7×7';
  const conv = /_block\d+_(\d)_conv/.exec(layer)?.[1];
  if (conv) return ({ '0': 'projections', '1': '1×1 reading the stream', '2': '3×3', '3': '1×1 writing the stream' } as Record<string, string>)[conv]!;
  if (/_block\d+_add/.test(layer)) return 'adds';
  return 'other';
}
const byOp: Record<string, number> = {};
const byRole: Record<string, number> = {};
const byLayer = new Map<string, { ms: number; op: string; input: number[]; output: number[] }>();
for (const e of kernels) {
  const op = e.args?.op_name ?? '?';
  byOp[op] = (byOp[op] ?? 0) + e.dur / 1000 / runs;
  const layer = e.name.replace(/_kernel_time$/, '');
  byRole[roleOf(layer)] = (byRole[roleOf(layer)] ?? 0) + e.dur / 1000 / runs;
  const entry = byLayer.get(layer) ?? { ms: 0, op, input: Object.values(e.args?.input_type_shape?.[0] ?? {})[0] ?? [], output: Object.values(e.args?.output_type_shape?.[0] ?? {})[0] ?? [] };
  entry.ms += e.dur / 1000 / runs;
  byLayer.set(layer, entry);
}
const total = Object.values(byOp).reduce((a, b) => a + b, 0);
process.stdout.write(`${JSON.stringify({
  profiled_run_ms: round(measured.map((r) => r.dur / 1000).sort((a, b) => a - b)[measured.length >> 1]!),
  kernel_ms_per_run: round(total),
  ms_per_run_by_op: Object.fromEntries(Object.entries(byOp).sort((a, b) => b[1] - a[1]).map(([op, ms]) => [op, round(ms)])),
  ms_per_run_by_role: Object.fromEntries(Object.entries(byRole).sort((a, b) => b[1] - a[1]).map(([role, ms]) => [role, round(ms)])),
  slowest_layers: [...byLayer].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8).map(([layer, l]) => ({ layer, op: l.op, input: l.input, output: l.output, ms: round(l.ms) })),
})}\n`);
