/**
 * `npx tsx bench/experiments/performance/memory.ts [--model-dir model/bench] [--no-prepack] [--json FILE]`: peak isolate memory while classifying a 224×224 JPEG
 * and a 2 MP JPEG, inside workerd (wrangler dev): the ORT wasm heap (exact: its linear memory never shrinks)
 * plus the V8 JS heap (sampled every few ms while the request runs, via the inspector).
 */
import { writeFileSync } from 'node:fs';
import { photoJpeg as photo } from '../../lib/photo.js';
import { startWorker } from '../../lib/worker-server.js';

const modelDir = process.argv.includes('--model-dir') ? process.argv[process.argv.indexOf('--model-dir') + 1]! : 'model/bench';
const MB = 2 ** 20;

const worker = await startWorker(modelDir, process.argv.includes('--no-prepack') ? ['ORT_PREPACK=0'] : []);
const results: Record<string, unknown> = {};
try {
  await fetch(`${worker.base}/readyz`); // create the session
  const idle = { wasm: await worker.wasmHeap(), js: await worker.jsHeap() };
  results.after_session_create = { wasm_heap_mb: idle.wasm / MB, js_heap_used_mb: idle.js.used / MB };
  for (const [name, [w, h]] of Object.entries({ jpeg_224: [224, 224], jpeg_2mp: [1920, 1080] })) {
    const body = await photo(w!, h!);
    let peakJs = 0;
    let running = true;
    const sampler = (async () => {
      while (running) {
        peakJs = Math.max(peakJs, (await worker.jsHeap()).used);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const res = await fetch(`${worker.base}/predict`, { method: 'POST', body });
    const status = res.status;
    await res.arrayBuffer();
    running = false;
    await sampler;
    peakJs = Math.max(peakJs, (await worker.jsHeap()).used);
    const wasm = await worker.wasmHeap();
    results[name] = { status, bytes: body.byteLength, pixels: w! * h!, wasm_heap_mb: +(wasm / MB).toFixed(1), js_heap_peak_mb: +(peakJs / MB).toFixed(1), total_mb: +((wasm + peakJs) / MB).toFixed(1) };
  }
} finally {
  await worker.stop();
}
const report = JSON.stringify({ model_dir: modelDir, prepack: !process.argv.includes('--no-prepack'), date: new Date().toISOString(), ...results }, null, 2);
console.log(report);
if (process.argv.includes('--json')) writeFileSync(process.argv[process.argv.indexOf('--json') + 1]!, `${report}\n`);
