/**
 * @module Does a model fit the Worker? Its session's wasm heap is measured as the Worker would create it (the
 * form the manifest names, the Worker's session options, one inference at the model's input size) in a fresh
 * Node process (one process's sessions share one heap, which never shrinks), and checked against the isolate's
 * 128 MB with a 2 MP photo in flight. `publish` refuses a model that does not fit.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { estimateDecodeBytes } from '../../src/core/image/footprint.js';
import type { JpegHeader } from '../../src/core/image/header.js';
import { parseManifest } from '../../src/core/manifest.js';
import { ortSessionOptions } from '../../src/ort/session-options.js';
import { WORKER_SESSION_OPTIONS } from '../ort/web.js';
import { watchWasmHeap } from '../ort/wasm-heap.js';

const MB = 2 ** 20;
export const ISOLATE_MB = 128;
/** JS heap, embedder memory and backing stores of an isolate at rest (bench.json: isolate_at_rest_mb − wasm_heap_mb = 7.7). */
export const JS_BASELINE_MB = 8;
/** The request's body, tensors and answer beside the decode. */
export const REQUEST_MARGIN_MB = 8;
/** A 1920×1080 4:2:0 JPEG decoded in full (jpeg-js; src/core/image/footprint.ts): a 2 MP photo below 8× the input. */
const PHOTO_2MP: JpegHeader = { format: 'jpeg', width: 1920, height: 1080, orientation: 1, precision: 8, sof: 0xc0, components: [{ h: 2, v: 2 }, { h: 1, v: 1 }, { h: 1, v: 1 }] };
export const PHOTO_2MP_DECODE_MB = estimateDecodeBytes(PHOTO_2MP) / MB;
/** The largest session heap that leaves room for that photo. */
export const MAX_SESSION_HEAP_MB = ISOLATE_MB - JS_BASELINE_MB - REQUEST_MARGIN_MB - PHOTO_2MP_DECODE_MB;

export class ModelTooLargeError extends Error {
  readonly code = 'model_too_large_for_worker';
}

/** Child mode: create the session as the Worker does, run once, print the heap. */
async function probe(dir: string): Promise<number> {
  const heapBytes = watchWasmHeap();
  const ort = await import('onnxruntime-web/wasm');
  Object.assign(ort.env.wasm, { numThreads: 1, proxy: false });
  ort.env.logLevel = 'error';
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const split = manifest.externalData;
  const graph = new Uint8Array(await readFile(join(dir, split ? split.graph.file : manifest.file)));
  const externalData = split ? { path: split.weights.file, data: new Uint8Array(await readFile(join(dir, split.weights.file))) } : undefined;
  const session = await ort.InferenceSession.create(graph, ortSessionOptions(WORKER_SESSION_OPTIONS, externalData));
  const shape = [...manifest.input.shape];
  await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape) });
  return heapBytes();
}

if (process.argv[2] === '--worker-fit-probe') {
  process.stdout.write(`${JSON.stringify({ wasm_heap_bytes: await probe(process.argv[3]!) })}\n`);
  process.exit(0);
}

/** The session heap of the model in `dir`, measured in a fresh process (cached by the model's sha256). */
export async function measureSessionHeapMb(dir: string, cacheDir = join('.cache', 'worker-fit')): Promise<number> {
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const key = join(cacheDir, `${manifest.sha256}-${manifest.externalData?.graph.sha256 ?? 'inline'}.json`);
  const cached = await readFile(key, 'utf8').then((t) => JSON.parse(t) as { wasm_heap_mb: number }, () => null);
  if (cached) return cached.wasm_heap_mb;
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker-fit-probe', dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const heapMb = Math.round((JSON.parse(out.trim().split('\n').at(-1)!) as { wasm_heap_bytes: number }).wasm_heap_bytes / MB * 10) / 10;
  await mkdir(cacheDir, { recursive: true });
  await writeFile(key, JSON.stringify({ wasm_heap_mb: heapMb }));
  return heapMb;
}

/** Throws ModelTooLargeError, saying by how much, when the model's session cannot serve a 2 MP photo in 128 MB. */
export async function checkFitsWorker(dir: string, log: (line: string) => void, cacheDir?: string): Promise<number> {
  const heap = await measureSessionHeapMb(dir, cacheDir);
  const need = heap + JS_BASELINE_MB + REQUEST_MARGIN_MB + PHOTO_2MP_DECODE_MB;
  if (heap > MAX_SESSION_HEAP_MB) {
    throw new ModelTooLargeError(
      `this model's session takes ${heap} MB of wasm heap; with the isolate's JS (${JS_BASELINE_MB} MB), a request (${REQUEST_MARGIN_MB} MB) and a 2 MP photo's decode (${PHOTO_2MP_DECODE_MB.toFixed(1)} MB) it needs ${need.toFixed(1)} MB of the Worker's ${ISOLATE_MB}: the Worker cannot serve it (the largest session that fits is ${MAX_SESSION_HEAP_MB.toFixed(1)} MB; a ResNet50 int8 session is ~58 MB)`,
    );
  }
  log(`fits the Worker: session ${heap} MB of wasm heap, ${need.toFixed(1)} MB of ${ISOLATE_MB} with a 2 MP photo in flight`);
  return heap;
}
