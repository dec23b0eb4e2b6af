/**
 * `npx tsx bench/experiments/2026-12-01-int8-engine/int8-saturation.ts [--json FILE]`: does this host's native onnxruntime saturate int8 pair sums?
 * Runs the saturation probe (training/onnx/saturation-probe.ts) in onnxruntime-node and in onnxruntime-web's wasm
 * engine and prints the output code each gives: 255 = exact, 129 = int16 pair sums saturated. Under
 * `valgrind --tool=none node --import tsx bench/experiments/2026-12-01-int8-engine/int8-saturation.ts` the CPU shows no AVX-512/VNNI (valgrind
 * does not emulate them), so native onnxruntime takes its AVX2 U8S8 path, as on an AVX2-only host.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createNodeSession } from '../../../training/ort/node.js';
import { createWasmSession } from '../../../training/ort/web.js';
import { PROBE_DIMS, saturationProbe } from '../../../training/onnx/saturation-probe.js';

const probe = saturationProbe();
const codeFrom = async (session: Awaited<ReturnType<typeof createNodeSession>>) => {
  const code = probe.codeOf((await session.run(probe.input, PROBE_DIMS))['y']!.data);
  await session.release();
  return code;
};
const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.trim().split(/\s+/) ?? [];
const result = {
  // /proc/cpuinfo is the machine's; under valgrind, cpuid (what onnxruntime asks) hides AVX-512 and VNNI.
  proc_cpuinfo_int8_flags: ['avx2', 'avx512bw', 'avx512_vnni', 'avx_vnni'].filter((f) => flags.includes(f)),
  under_valgrind: /valgrind/i.test(process.env.LD_PRELOAD ?? '') || process.env.VALGRIND_LAUNCHER !== undefined,
  exact_code: probe.exactCode,
  saturated_code: probe.saturatedCode,
  native_code: await codeFrom(await createNodeSession(probe.model, { threads: 1 })),
  wasm_code: await codeFrom(await createWasmSession(probe.model)),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
const i = process.argv.indexOf('--json');
if (i > 0) writeFileSync(process.argv[i + 1]!, `${JSON.stringify(result, null, 2)}\n`);
