/**
 * @module The Worker's only door to onnxruntime-web: its WASM SIMD engine made to run inside workerd.
 *
 * workerd cannot compile WebAssembly from bytes, and ORT's Emscripten loader has no `instantiateWasm` hook
 * (it takes only numThreads, wasmBinary and locateFile). So ORT gets an 8-byte placeholder `wasmBinary`,
 * and while the engine starts, `WebAssembly.instantiate(placeholder, imports)` is answered with an instance
 * of the module wrangler precompiled from the .wasm we import. Nothing else here touches WebAssembly.
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import { ortSessionOptions, type ExternalData, type SessionOptions } from './session-options.js';

/** The smallest valid wasm module ("\0asm", version 1): the marker for "use the precompiled engine". */
const PLACEHOLDER = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);

const isPlaceholder = (source: unknown): boolean => {
  const bytes = source instanceof Uint8Array ? source : source instanceof ArrayBuffer ? new Uint8Array(source) : null;
  return bytes !== null && bytes.length === PLACEHOLDER.length && bytes.every((b, i) => b === PLACEHOLDER[i]);
};

/** The engine's linear memory, captured at start: its size is what the isolate pays for ORT. */
let engineMemory: WebAssembly.Memory | null = null;
let engineStarted = false;

function findMemory(imports: WebAssembly.Imports | undefined, instance: WebAssembly.Instance): WebAssembly.Memory | null {
  for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) return value;
  for (const ns of Object.values(imports ?? {})) for (const value of Object.values(ns)) if (value instanceof WebAssembly.Memory) return value;
  return null;
}

/** Runs `start` with WebAssembly.instantiate redirected for the placeholder; restores it afterwards. */
async function withPrecompiledEngine<T>(start: () => Promise<T>): Promise<T> {
  const original = WebAssembly.instantiate;
  let used = false;
  const redirected = (async (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
    if (!isPlaceholder(source)) return (original as (s: unknown, i?: WebAssembly.Imports) => Promise<unknown>)(source, imports);
    used = true;
    const instance = await original(ortWasm, imports);
    engineMemory = findMemory(imports, instance);
    return { instance, module: ortWasm };
  }) as typeof WebAssembly.instantiate;
  WebAssembly.instantiate = redirected;
  try {
    const result = await start();
    if (!used && !engineStarted) {
      throw new Error('onnxruntime-web did not instantiate its engine through wasmBinary: the loader changed (check the ORT version against src/ort/workerd.ts)');
    }
    engineStarted = true;
    return result;
  } finally {
    WebAssembly.instantiate = original;
  }
}

export interface OrtSession {
  inputName: string;
  outputName: string;
  /** One NCHW float32 input → the first output as float32. Runs are serialised (one engine, one thread). */
  run(input: Float32Array, dims: readonly number[]): Promise<Float32Array>;
  release(): Promise<void>;
}

function configureEnv(): void {
  ort.env.wasm.numThreads = 1; // no threads in workerd
  ort.env.wasm.proxy = false; // no Web Workers either
  ort.env.wasm.wasmBinary = PLACEHOLDER;
  ort.env.logLevel = 'error';
}

/**
 * The ORT session for `model`. A function of its own so that no closure in createSession's scope captures the
 * model bytes: V8 keeps a captured variable alive with the scope's context, and `run` below lives as long as
 * the session. Measured with `npm run bench` (isolate at rest after a GC, after some requests): 104.4 MB
 * before this split, 77.6 MB after (one run each; right after session creation the 25 MB are still there,
 * so V8 releases them lazily).
 */
function createOrtSession(model: Uint8Array, options: SessionOptions, externalData?: ExternalData): Promise<ort.InferenceSession> {
  configureEnv();
  return withPrecompiledEngine(() => ort.InferenceSession.create(model, ortSessionOptions(options, externalData)));
}

/** Creates an ORT session from model bytes, and its external data if any (the engine starts on the first call). */
export async function createSession(model: Uint8Array, options: SessionOptions, externalData?: ExternalData): Promise<OrtSession> {
  const session = await createOrtSession(model, options, externalData);
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  let queue: Promise<unknown> = Promise.resolve();
  let released: Promise<void> | undefined;
  return {
    inputName,
    outputName,
    run(input, dims) {
      const next = queue.then(async () => {
        const feeds = { [inputName]: new ort.Tensor('float32', input, dims) };
        const out = await session.run(feeds);
        const tensor = out[outputName]!;
        const data = Float32Array.from(tensor.data as Float32Array);
        for (const t of Object.values(out)) t.dispose();
        return data;
      });
      queue = next.catch(() => undefined);
      return next;
    },
    // After the runs already queued, and once: a session released under a run, or twice, corrupts the engine's
    // heap (one engine serves every session of the isolate).
    release() {
      released ??= queue.then(() => session.release());
      return released;
    },
  };
}

/** Bytes of the engine's linear memory (0 before it starts). It never shrinks: its peak is what the isolate pays. */
export const wasmHeapBytes = (): number => engineMemory?.buffer.byteLength ?? 0;
