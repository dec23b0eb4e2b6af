/**
 * @module The wasm engine's heap in Node, as the Worker reads its own: Emscripten creates the linear memory in
 * JS and imports it at instantiation, so it is caught on the way in. Install before onnxruntime-web is imported,
 * in a process of its own (one process's sessions share one heap, and it never shrinks).
 */
// The training tsconfig has no WebAssembly types (no DOM lib): only what this needs.
interface WasmMemory {
  buffer: ArrayBuffer;
}

/** Patches `WebAssembly.instantiate`; the returned function reads the heap's bytes (NaN before the engine starts). */
export function watchWasmHeap(): () => number {
  const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (...a: never[]) => WasmMemory; instantiate: (s: unknown, i?: unknown) => Promise<unknown> } }).WebAssembly;
  let memory: WasmMemory | null = null;
  const instantiate = wasm.instantiate;
  wasm.instantiate = async (source: unknown, imports?: unknown) => {
    for (const ns of Object.values((imports ?? {}) as Record<string, object>)) for (const v of Object.values(ns)) if (v instanceof wasm.Memory) memory = v;
    return instantiate(source, imports);
  };
  return () => (memory as WasmMemory | null)?.buffer.byteLength ?? NaN;
}
