/**
 * `npx tsx bench/experiments/default-model/http-accuracy.ts --data DIR [--url http://127.0.0.1:8787]`: top-1 of a running service on a
 * folder-per-class image set, posted over HTTP both as multipart (field `image`) and as raw bytes, with every
 * 200 answer checked against the /predict contract. The acceptance check of the Worker on held-out shapes
 * (e.g. the librsvg-drawn ones `npm run model` writes under .cache/default-model/<key>/shapes/svg).
 */
import { readFile } from 'node:fs/promises';
import { readFolderDataset } from '../../../training/data/folder.js';

const arg = (name: string, fallback?: string) => {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1]!;
  if (fallback === undefined) throw new Error(`missing ${name}`);
  return fallback;
};
const url = arg('--url', 'http://127.0.0.1:8787');
const labels = (await (await fetch(`${url}/v1/models`)).json() as { models: Array<{ labels: string[] }> }).models[0]!.labels;
const { files } = await readFolderDataset(arg('--data'), labels);
const CONTRACT = ['class', 'confidence', 'label', 'model', 'timing', 'top'];

async function classify(bytes: Buffer, name: string, mode: 'multipart' | 'raw'): Promise<string> {
  let response: Response;
  if (mode === 'multipart') {
    const form = new FormData();
    form.append('image', new Blob([bytes]), name);
    response = await fetch(`${url}/predict`, { method: 'POST', body: form });
  } else {
    response = await fetch(`${url}/predict`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  }
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`${name} (${mode}): HTTP ${response.status} ${JSON.stringify(body)}`);
  const keys = Object.keys(body).sort();
  if (JSON.stringify(keys) !== JSON.stringify(CONTRACT)) throw new Error(`${name} (${mode}): keys ${keys.join(',')}`);
  if (!response.headers.get('server-timing')) throw new Error(`${name} (${mode}): no Server-Timing header`);
  return body.label as string;
}

const result: Record<string, { correct: number; count: number; top1: number }> = {};
for (const mode of ['multipart', 'raw'] as const) {
  let correct = 0;
  for (const file of files) {
    const label = await classify(await readFile(file.path), file.path, mode);
    if (label === labels[file.label]) correct++;
  }
  result[mode] = { correct, count: files.length, top1: correct / files.length };
}
console.log(JSON.stringify(result));
