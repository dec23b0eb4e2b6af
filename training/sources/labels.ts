/**
 * @module The labels of an imported classifier, one per output: `--labels FILE` (one a line), `--labels-from DIR`
 * (its class folders in the order Keras' `flow_from_directory` and torchvision's `ImageFolder` number them:
 * sorted names), the file's own (a Hugging Face `id2label`), or ImageNet's 1,000 in Workers AI's wording for a
 * 1,000-output head. A count that differs from the head's is an error, never a guess.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasSplitFolders } from '../data/folder.js';
import { SourceError } from './graph.js';
import { IMAGENET_CLASS_COUNT, imagenetLabels } from './imagenet-labels.js';

export interface LabelOptions {
  /** A text file, one label a line (blank lines at the end ignored). */
  labelsFile?: string;
  /** A folder of class folders (or with train/ holding them). */
  labelsFrom?: string;
}

/** Hugging Face's ImageNet id2label ("tench, Tinca tinca", …): served in the hosted model's wording instead. */
const isImagenetId2label = (labels: string[]) => labels.length === IMAGENET_CLASS_COUNT && /^tench\b/i.test(labels[0]!) && /^toilet tissue\b/i.test(labels[999]!);

export async function resolveLabels(classes: number, fromSource: string[] | null, o: LabelOptions): Promise<{ labels: string[]; from: string }> {
  const check = (labels: string[], from: string) => {
    if (labels.length !== classes) throw new SourceError(`${from} gives ${labels.length} labels; the classifier has ${classes} outputs`);
    const empty = labels.findIndex((l) => l.trim() === '');
    if (empty >= 0) throw new SourceError(`${from}: label ${empty + 1} is empty`);
    return { labels, from };
  };
  if (o.labelsFile) {
    const text = await readFile(o.labelsFile, 'utf8').catch(() => {
      throw new SourceError(`--labels ${o.labelsFile}: cannot read it`);
    });
    return check(text.replace(/\r/g, '').replace(/\n+$/, '').split('\n').map((l) => l.trim()), `--labels ${o.labelsFile}`);
  }
  if (o.labelsFrom) {
    const dir = (await hasSplitFolders(o.labelsFrom)) ? join(o.labelsFrom, 'train') : o.labelsFrom;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => {
      throw new SourceError(`--labels-from ${o.labelsFrom}: not a folder`);
    });
    return check(entries.filter((e) => e.isDirectory()).map((e) => e.name).sort(), `--labels-from ${o.labelsFrom} (its class folders)`);
  }
  if (fromSource && !isImagenetId2label(fromSource)) return check(fromSource, "the file's own labels");
  if (classes === IMAGENET_CLASS_COUNT) return { labels: imagenetLabels(), from: "ImageNet's 1,000 classes in Workers AI's wording" };
  throw new SourceError(`the classifier has ${classes} outputs and the file names none: give --labels FILE (one a line, in output order) or --labels-from DIR (the class folders it was trained on)`);
}
