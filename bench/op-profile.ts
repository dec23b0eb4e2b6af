/**
 * Where a pruned network's time goes, per operator type: each int8 file profiled by onnxruntime-node (1 thread,
 * its own kernel timings) and by ORT-web's own profiler (per operator, per layer role: bench/lib/ort-web-profile.ts),
 * and timed in ORT-web in Node (the Worker's wasm engine, bench/lib/ort-web-node.ts), in
 * one run, with and without V8's explicit bounds checks, so the engines' ratios between files compare. Asks whether the floor bench/price.ts finds below
 * keep 0.35 at 224 px is the network's (native would show it too) or the wasm engine's.
 * Usage: npx tsx bench/op-profile.ts --json bench/results/op-profile.json MODEL_DIR...   (~3 min for two files)
 * e.g. model/bench and a keep 0.25 cut of it: `npm run pipeline -- prune --model model/bench --keep 0.25 --by l1
 * --epochs 0 --data <the default model's build cache>/shapes/test --out /tmp/p25 --calibration-images 32`, and the same with
 * `--keep-stream 0.5 --out /tmp/p25s50`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseManifest } from '../src/core/manifest.js';
import { writeJsonAtomic } from '../training/model-folder/files.js';

const RUNS = 13;
const args = process.argv.slice(2);
const json = args.includes('--json') ? args.splice(args.indexOf('--json'), 2)[1] : undefined;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

interface ProfileEvent { cat: string; name: string; dur: number; args?: { op_name?: string } }

/** Median run and milliseconds per run of each operator type, from onnxruntime-node's own profile. */
async function nativeProfile(file: string, size: number) {
  const dir = mkdtempSync(join(tmpdir(), 'op-profile-'));
  try {
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: join(dir, 'profile'), graphOptimizationLevel: 'all' });
    const input = new ort.Tensor('float32', new Float32Array(3 * size * size).fill(0.5), [1, 3, size, size]);
    for (let i = 0; i < RUNS; i++) await session.run({ [session.inputNames[0]!]: input });
    session.endProfiling();
    await session.release();
    const events = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')) as ProfileEvent[];
    const runs = events.filter((e) => e.name === 'model_run').map((e) => e.dur / 1000).sort((a, b) => a - b);
    const byOp: Record<string, number> = {};
    for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) byOp[e.args?.op_name ?? '?'] = (byOp[e.args?.op_name ?? '?'] ?? 0) + e.dur / 1000 / runs.length;
    const ops = Object.fromEntries(Object.entries(byOp).sort((a, b) => b[1] - a[1]).map(([op, ms]) => [op, round(ms)]));
    return { median_ms: round(runs[runs.length >> 1]!), ms_per_run_by_op: ops };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (const folder of args) {
  const manifest = parseManifest(JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')));
  const file = join(folder, manifest.file);
  const size = manifest.preprocess.width;
  const native = await nativeProfile(file, size);
  const webMs = (flags: string[]) => (JSON.parse(execFileSync(process.execPath, [...flags, '--import', 'tsx', 'bench/lib/ort-web-node.ts', folder, '--form', 'worker'], { encoding: 'utf8' }).trim().split('\n').at(-1)!) as { median_ms: number }).median_ms;
  // With V8's explicit wasm bounds checks, as workerd runs wasm (bench/engine-gap.ts).
  // ORT-web's own profiler: where the wasm engine's time goes, by operator, by layer role, slowest layers.
  const ortWebProfile = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/lib/ort-web-profile.ts', folder], { encoding: 'utf8' }).trim().split('\n').at(-1)!) as Record<string, unknown>;
  rows.push({ model: `${manifest.name}@${manifest.version}`, folder, input: size, gmac: manifest.network?.gmac ?? null, widths: manifest.network?.widths.map((s) => s[0]![0]) ?? null, streams: manifest.network?.streams ?? null, ort_web_node_median_ms: round(webMs([])), ort_web_node_bounds_checked_median_ms: round(webMs(['--wasm-enforce-bounds-checks'])), native, ort_web_profile: ortWebProfile });
  console.log(JSON.stringify(rows.at(-1)));
}
const first = rows[0]!;
const result = {
  command: `npx tsx bench/op-profile.ts ${process.argv.slice(2).join(' ')}`,
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
  engines: 'native: onnxruntime-node, 1 thread, graph optimisation all, its profile (kernel time per node, summed per operator type, per run); ORT-web: the Worker\'s wasm engine and session options in Node, 1 thread, the worker form of the folder, without and with --wasm-enforce-bounds-checks (how workerd runs wasm); ort_web_profile: ORT-web\'s own profiler on the self-contained int8 file (its bookkeeping adds to kernel times: read shares)',
  rows: rows.map((r) => ({ ...r, of_first: { gmac: first.gmac && r.gmac ? round(r.gmac / first.gmac) : null, native: round(r.native.median_ms / first.native.median_ms), ort_web: round(r.ort_web_node_median_ms / first.ort_web_node_median_ms), ort_web_bounds_checked: round(r.ort_web_node_bounds_checked_median_ms / first.ort_web_node_bounds_checked_median_ms) } })),
};
if (json) await writeJsonAtomic(json, result);
