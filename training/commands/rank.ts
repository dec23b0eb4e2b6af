/**
 * @module `pipeline rank`: what to label next. Every image of an unlabelled folder is scored by a model folder's
 * int8 model through the Worker's decode, preprocessing and engine, then listed most uncertain first as CSV
 * (`file, predicted, uncertainty`, then one probability column per label, named by it). `--copy-to DIR` copies
 * the listed images into DIR/<predicted label>/ (path flattened into the name), a tree a person corrects by
 * moving files, ready for `train`.
 */
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { parseManifest, type Manifest } from '../../src/core/manifest.js';
import { rankByUncertainty, type UncertaintyMeasure } from '../active/uncertainty.js';
import { IMAGE_EXTENSIONS } from '../data/folder.js';
import { loadImageTensors } from '../data/load.js';
import { predictAll } from '../evaluate/evaluate.js';
import { writeFileAtomic } from '../model-folder/files.js';

export interface RankOptions {
  model: string;
  data: string;
  out: string;
  by: UncertaintyMeasure;
  /** Only the N most uncertain (default: every image). */
  top?: number;
  copyTo?: string;
  log: (line: string) => void;
}

/** Image files anywhere under `dir`, sorted (subfolders are only places, not labels). */
async function imagesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.test(e.name))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

/** A copy's file name: its path under the data folder, flattened (`a/b/1.jpg` → `a_b_1.jpg`), so two images never collide. */
export const copiedName = (root: string, path: string) => relative(root, path).split(/[\\/]/).join('_');

export async function rankCommand(o: RankOptions) {
  const manifest: Manifest = parseManifest(JSON.parse(await readFile(join(o.model, 'manifest.json'), 'utf8')));
  const files = await imagesUnder(o.data);
  if (files.length === 0) throw new Error(`no JPEG or PNG images under ${o.data}`);
  const set = await loadImageTensors(files.map((path) => ({ path, label: -1 })), manifest.preprocess);
  for (const s of set.skipped) o.log(`rank: skipped ${s.path}: ${s.reason}`);
  const { scores } = await predictAll(join(o.model, manifest.file), set.tensors, manifest.preprocess, { outputKind: manifest.output.kind });
  const ranked = rankByUncertainty(scores, o.by).slice(0, o.top ?? scores.length);
  const rows = ranked.map((r) => [relative(o.data, set.paths[r.index]!), manifest.labels[r.predicted] ?? String(r.predicted), r.uncertainty, ...Array.from(scores[r.index]!)]);
  await writeFileAtomic(o.out, stringify(rows, { header: true, columns: ['file', 'predicted', 'uncertainty', ...manifest.labels] }));
  if (o.copyTo) {
    for (const r of ranked) {
      const folder = join(o.copyTo, manifest.labels[r.predicted] ?? String(r.predicted));
      await mkdir(folder, { recursive: true });
      await copyFile(set.paths[r.index]!, join(folder, copiedName(o.data, set.paths[r.index]!)));
    }
  }
  o.log(`rank: ${ranked.length} of ${scores.length} images by ${o.by}, most uncertain first → ${o.out}${o.copyTo ? `; copied into ${o.copyTo}/<predicted>/` : ''}`);
  return { ranked, scores, paths: set.paths };
}
