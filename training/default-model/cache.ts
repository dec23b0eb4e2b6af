/**
 * @module The default-model build's cache: one folder per recipe key under .cache/default-model, holding the
 * drawn data set and the trained fp32 network (100–180 MB each). A folder is what makes a rebuild after an
 * interrupted or repeated run cheap, but every recipe change adds one: the machine that built versions
 * 1.0–1.7 held 33 of them (4 GB). So each build marks its folder used, and a successful one keeps only the
 * few most recently used.
 */
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';

export interface CacheEntry {
  name: string;
  usedMs: number;
}

/** Folders to remove: all but the `keep` most recently used, never `current`. */
export function entriesToPrune(entries: readonly CacheEntry[], current: string, keep: number): string[] {
  const others = entries.filter((e) => e.name !== current).sort((a, b) => b.usedMs - a.usedMs || a.name.localeCompare(b.name));
  return others.slice(Math.max(0, keep - 1)).map((e) => e.name);
}

/** Creates the key's folder if needed and marks it used now (its mtime), so pruning sees it as recent. */
export async function useCacheFolder(root: string, key: string): Promise<string> {
  const dir = join(root, key);
  await mkdir(dir, { recursive: true });
  const now = new Date();
  await utimes(dir, now, now);
  return dir;
}

/** Removes the folders `entriesToPrune` picks under `root`; returns their names. */
export async function pruneCache(root: string, current: string, keep: number): Promise<string[]> {
  const names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  const entries = await Promise.all(names.map(async (name) => ({ name, usedMs: (await stat(join(root, name))).mtimeMs })));
  const stale = entriesToPrune(entries, current, keep);
  for (const name of stale) await rm(join(root, name), { recursive: true, force: true });
  return stale;
}
