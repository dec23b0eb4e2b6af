/** @module Folder-per-class data sets: DIR/<label>/*.jpg|png, or DIR/train/<label>/… with DIR/val/<label>/…. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const IMAGE_EXTENSIONS = /\.(jpe?g|png)$/i;

export interface LabelledFile {
  path: string;
  /** Index into the data set's `labels`. */
  label: number;
}

export interface FolderDataset {
  /** Class names, sorted (folder names). */
  labels: string[];
  files: LabelledFile[];
  /** Classes that hold no image. */
  emptyClasses: string[];
}

const isDir = async (p: string) => (await stat(p).catch(() => null))?.isDirectory() ?? false;

/** Reads one folder-per-class tree; `labels` fixes the class order (e.g. the training set's). */
export async function readFolderDataset(dir: string, labels?: string[]): Promise<FolderDataset> {
  if (!(await isDir(dir))) throw new Error(`data folder ${dir} does not exist`);
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const classes = labels ?? entries;
  const files: LabelledFile[] = [];
  const emptyClasses: string[] = [];
  for (const [label, name] of classes.entries()) {
    const folder = join(dir, name);
    const images = (await isDir(folder)) ? (await readdir(folder)).filter((f) => IMAGE_EXTENSIONS.test(f)).sort() : [];
    if (images.length === 0) emptyClasses.push(name);
    for (const f of images) files.push({ path: join(folder, f), label });
  }
  return { labels: classes, files, emptyClasses };
}

/** True when DIR holds `train/` (and usually `val/`) rather than class folders. */
export const hasSplitFolders = async (dir: string) => isDir(join(dir, 'train'));
