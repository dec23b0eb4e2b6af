/**
 * The ORT-in-workerd adapter on its own. If an onnxruntime-web upgrade changes how its Emscripten loader
 * instantiates the engine, these fail with the adapter's message instead of an obscure "Wasm code generation
 * disallowed by embedder".
 */
import * as ort from 'onnxruntime-web/wasm';
import { describe, expect, it } from 'vitest';
import { createSession, wasmHeapBytes } from '../../src/ort/workerd.js';
import { fetchTestModel } from './helpers.js';

describe('onnxruntime-web in workerd', () => {
  it('cannot compile WebAssembly from bytes here (why the adapter exists)', async () => {
    const empty = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
    await expect(WebAssembly.instantiate(empty)).rejects.toThrow();
  });

  it('creates a session from model bytes with the precompiled engine, 1 thread, and runs it', async () => {
    const { manifest, bytes } = await fetchTestModel();
    const session = await createSession(bytes, { prepack: false });
    expect(ort.env.wasm.numThreads).toBe(1);
    const [, , h, w] = manifest.input.shape;
    const out = await session.run(new Float32Array(3 * h * w), manifest.input.shape);
    expect(out).toHaveLength(manifest.labels.length);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4); // softmax output
    expect(wasmHeapBytes()).toBeGreaterThan(16 * 2 ** 20);
    // WebAssembly.instantiate is restored once the engine has started.
    await expect(WebAssembly.instantiate(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00))).rejects.toThrow();
    await session.release();
  });

  it('serialises concurrent runs on one session', async () => {
    const { manifest, bytes } = await fetchTestModel();
    const session = await createSession(bytes, { prepack: true });
    const [, , h, w] = manifest.input.shape;
    const inputs = [0, 1, 2, 3].map((v) => new Float32Array(3 * h * w).fill(v * 10));
    const parallel = await Promise.all(inputs.map((x) => session.run(x, manifest.input.shape)));
    for (const [i, x] of inputs.entries()) expect(Array.from(await session.run(x, manifest.input.shape))).toEqual(Array.from(parallel[i]!));
    await session.release();
  });
});
