/**
 * `npx tsx bench/experiments/performance/heldout.ts --url http://127.0.0.1:8787 --data DIR`: posts every image of a folder-per-class
 * set to a running Worker, alternating multipart (field "image") and raw bodies, checks the response contract
 * and reports top-1 per transport.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { readFolderDataset } from '../../../training/data/folder.js';

const arg = (name: string, fallback?: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const url = arg('--url', 'http://127.0.0.1:8787')!;
const data = arg('--data');
if (!data) throw new Error('--data DIR is required');

const dataset = await readFolderDataset(data);
const tally = { multipart: { n: 0, correct: 0 }, raw: { n: 0, correct: 0 } };
const statuses: Record<string, number> = {};
const KEYS = 'class,confidence,label,model,timing,top';
for (const [i, file] of dataset.files.entries()) {
  const bytes = await readFile(file.path);
  const transport = i % 2 === 0 ? 'multipart' : 'raw';
  let body: Buffer | FormData = bytes;
  if (transport === 'multipart') {
    const form = new FormData();
    form.set('image', new Blob([bytes]), basename(file.path));
    body = form;
  }
  const res = await fetch(`${url}/predict`, { method: 'POST', body });
  statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  if (res.status !== 200) continue;
  const json = (await res.json()) as { label: string };
  if (Object.keys(json).sort().join(',') !== KEYS) throw new Error(`contract broken for ${file.path}: ${Object.keys(json)}`);
  tally[transport].n++;
  if (json.label === dataset.labels[file.label]) tally[transport].correct++;
}
const top1 = (t: { n: number; correct: number }) => (t.n ? +(t.correct / t.n).toFixed(4) : null);
console.log(JSON.stringify({ files: dataset.files.length, statuses, top1_multipart: top1(tally.multipart), top1_raw: top1(tally.raw), top1: top1({ n: tally.multipart.n + tally.raw.n, correct: tally.multipart.correct + tally.raw.correct }) }, null, 2));
