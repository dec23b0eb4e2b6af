import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest } from '../src/core/manifest.js';
import { createWasmSession } from '../training/ort-web.js';
const dir = 'model/bench';
const m = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
const s = await createWasmSession(new Uint8Array(readFileSync(join(dir, m.file))));
const x = new Float32Array(3 * 224 * 224).fill(0.5);
const t: number[] = [];
for (let i = 0; i < 25; i++) { const a = performance.now(); await s.run(x, [1, 3, 224, 224]); t.push(Math.round(performance.now() - a)); }
console.log(process.execArgv.join(' ') || '(default)', t.join(' '));
