/**
 * `npx tsx bench/experiments/performance/ort-format.ts [--model-dir model/bench] [--runs 3] [--json FILE]`: the ORT-format lever of
 * issue 18. onnxruntime-node writes the int8 model as an `.ort` file (flatbuffers, optimised at level `all`);
 * each run creates a session from it and from the pipeline's pre-optimised external-data form, with the Worker's
 * engine and options (onnxruntime-web, 1 thread, prepacking on, optimisations off), one fresh Node process per
 * form, alternating. Per process: session creation, first and warm inference, the wasm heap after creation and
 * after the first inference (linear memory never shrinks), and whether both forms give the same outputs.
 * Without `session.use_ort_model_bytes_for_initializers` (a use-after-free in ORT-web 1.30), the .ort bytes are
 * copied into the heap and parsed there: the heap pays for the file and for the initializers made from it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../../../src/core/manifest.js';
import { watchWasmHeap } from '../../../training/ort/wasm-heap.js';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);

interface Measured {
  form: string;
  session_create_ms: number;
  first_inference_ms: number;
  warm_inference_ms: number;
  wasm_heap_after_create_mb: number;
  wasm_heap_mb: number;
  outputs: number[];
}

/** Child mode: one session in this (fresh) process. */
async function measure(form: 'split' | 'ort', dir: string, graph: string, weights: string, ortFile: string): Promise<Measured> {
  const heapBytes = watchWasmHeap();
  const ort = await import('onnxruntime-web/wasm');
  Object.assign(ort.env.wasm, { numThreads: 1, proxy: false });
  ort.env.logLevel = 'error';
  const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' as const };
  const started = performance.now();
  const session =
    form === 'split'
      ? await ort.InferenceSession.create(new Uint8Array(readFileSync(join(dir, graph))), { ...options, externalData: [{ path: weights, data: new Uint8Array(readFileSync(join(dir, weights))) }] })
      : await ort.InferenceSession.create(new Uint8Array(readFileSync(ortFile)), options);
  const create = performance.now() - started;
  const heap = () => Math.round((heapBytes() / 2 ** 20) * 10) / 10;
  const afterCreate = heap();
  const input = new ort.Tensor('float32', Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => ((i * 7919) % 255) - 120), [1, 3, 224, 224]);
  const times: number[] = [];
  let outputs: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    const result = await session.run({ [session.inputNames[0]!]: input });
    times.push(performance.now() - t);
    outputs = Array.from(result[session.outputNames[0]!]!.data as Float32Array);
  }
  const warm = times.slice(1).sort((a, b) => a - b)[2]!;
  return { form, session_create_ms: Math.round(create), first_inference_ms: Math.round(times[0]!), warm_inference_ms: Math.round(warm), wasm_heap_after_create_mb: afterCreate, wasm_heap_mb: heap(), outputs };
}

if (process.argv[2] === '--child') {
  const [form, dir, graph, weights, ortFile] = process.argv.slice(3) as ['split' | 'ort', string, string, string, string];
  process.stdout.write(JSON.stringify(await measure(form, dir, graph, weights, ortFile)));
  process.exit(0);
}

const modelDir = arg('--model-dir', 'model/bench');
const runs = Number(arg('--runs', '3'));
const manifest = parseManifest(JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')));
const split = manifest.externalData;
if (!split?.preOptimised) throw new Error(`${modelDir}/manifest.json names no pre-optimised graph: rebuild it (npm run model)`);
if (manifest.preprocess.width !== 224) throw new Error('this bench feeds 224×224 inputs');

const work = mkdtempSync(join(tmpdir(), 'ort-format-'));
const ortFile = join(work, 'model.ort');
try {
  const ortNode = await import('onnxruntime-node');
  const s = await ortNode.InferenceSession.create(join(modelDir, manifest.file), { intraOpNumThreads: 1, graphOptimizationLevel: 'all', optimizedModelFilePath: ortFile, logSeverityLevel: 3 });
  await s.release();
  const rows: Measured[] = [];
  for (let run = 0; run < runs; run++) {
    for (const form of ['split', 'ort'] as const) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/experiments/performance/ort-format.ts', '--child', form, modelDir, split.graph.file, split.weights.file, ortFile], { encoding: 'utf8', timeout: 300_000 });
      rows.push(JSON.parse(out) as Measured);
      console.log(JSON.stringify({ ...rows.at(-1), outputs: undefined }));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const of = (form: string) => rows.filter((r) => r.form === form);
  const summary = Object.fromEntries(
    (['split', 'ort'] as const).map((form) => [
      form === 'split' ? 'pre_optimised_external_data' : 'ort_format',
      Object.fromEntries((['session_create_ms', 'first_inference_ms', 'warm_inference_ms', 'wasm_heap_after_create_mb', 'wasm_heap_mb'] as const).map((k) => [k, median(of(form).map((r) => r[k]))])),
    ]),
  );
  const reference = of('split')[0]!.outputs;
  const maxDelta = Math.max(...of('ort').map((r) => Math.max(...r.outputs.map((x, i) => Math.abs(x - reference[i]!)))));
  const result = {
    command: `npx tsx bench/experiments/performance/ort-format.ts --model-dir ${modelDir} --runs ${runs}`,
    date: new Date().toISOString(),
    model: `${manifest.name}@${manifest.version}`,
    ort_file_bytes: readFileSync(ortFile).byteLength,
    weights_bytes: split.weights.bytes,
    summary,
    max_output_delta: maxDelta,
    runs: rows.map((r) => ({ ...r, outputs: undefined })),
  };
  console.log(JSON.stringify(summary, null, 2), `max |Δ| ${maxDelta}`);
  const json = arg('--json', '');
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
