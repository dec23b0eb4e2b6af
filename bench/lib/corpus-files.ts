/** @module The image files of ../shared/corpora (third-party conformance, fuzz, orientation and photo sets). */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const CORPORA_DIR = join('..', 'shared', 'corpora');

/** Documentation, licences and reference data that sit beside the images. */
const NOT_IMAGES = /(\.(md|markdown|txt|json|csv|tsv|toml|ppm|pgm|rgba|html)$)|(^|\/)(LICENSE|README|SOURCE|NOTICE|COPYING)[^/]*$/i;

export const hasCorpora = () => statSync(CORPORA_DIR, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** Every image-like file, relative to CORPORA_DIR, sorted (whatever its extension claims). */
export function corpusFiles(dir = CORPORA_DIR): string[] {
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  return walk(dir)
    .map((p) => relative(dir, p))
    .filter((p) => !NOT_IMAGES.test(p))
    .sort();
}
