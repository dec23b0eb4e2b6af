/**
 * Why int8 models are measured with the Worker's wasm engine (training/ort/web.ts): ORT's x86 U8S8 kernels
 * without VNNI add pairs of u8×s8 products with `vpmaddubsw`, which saturates at 32,767; the wasm kernel widens
 * to int16 and accumulates in int32, so it is exact on every host.
 */
import { describe, expect, it } from 'vitest';
import { createNodeSession } from '../ort/node.js';
import { createWasmSession } from '../ort/web.js';
import { pairwiseDot, PROBE_CHANNELS, PROBE_DIMS, probeInput, qdqConv1x1, saturationProbe } from './saturation-probe.js';

const run = async (session: Awaited<ReturnType<typeof createWasmSession>>, input: Float32Array) => {
  const y = (await session.run(input, PROBE_DIMS))['y']!.data;
  await session.release();
  return y;
};

describe('int8 arithmetic: the wasm engine is exact where native x86 kernels may saturate', () => {
  const probe = saturationProbe();

  it('the probe overflows int16 in every pair (255·127·2 = 64,770 > 32,767), far apart in output codes', () => {
    expect(probe.exact).toBe(255 * 127 * PROBE_CHANNELS);
    expect(probe.pairSaturated).toBe(32767 * (PROBE_CHANNELS / 2));
    expect(probe.saturatedCode).toBe(129);
  });

  it("onnxruntime-web (the Worker's engine and session options) gives the exact sum", async () => {
    const y = await run(await createWasmSession(probe.model), probe.input);
    for (const v of y) expect(probe.codeOf([v])).toBe(probe.exactCode);
  });

  it('…and for random codes and weights, to one output step', async () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const x = Uint8Array.from({ length: PROBE_CHANNELS }, () => Math.floor(next() * 256));
    const w = Int8Array.from({ length: PROBE_CHANNELS }, () => Math.floor(next() * 255) - 127);
    const reference = pairwiseDot(x, w).exact;
    const scale = Math.fround(Math.max(1, Math.abs(reference)) / 100);
    const y = await run(await createWasmSession(qdqConv1x1(w, scale)), probeInput(x));
    const expected = Math.min(255, Math.max(0, Math.round(reference / scale))) * scale;
    for (const v of y) expect(Math.abs(v - expected)).toBeLessThanOrEqual(scale * 1.01);
  });

  it('native onnxruntime gives one of the two sums, depending on the CPU (reported, not a figure we use)', async () => {
    const code = probe.codeOf(await run(await createNodeSession(probe.model, { threads: 1 }), probe.input));
    console.log(`native onnxruntime on this host: output code ${code} (${code === probe.exactCode ? 'exact' : 'int16 pair sums saturated'})`);
    expect([probe.exactCode, probe.saturatedCode]).toContain(code);
  });
});
