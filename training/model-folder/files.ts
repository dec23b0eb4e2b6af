/** @module File helpers: atomic writes (write-then-rename) and hashing. */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes a file so readers see the old or the new content, never half of it. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export const writeJsonAtomic = (path: string, value: unknown) => writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);

export const sha256OfBytes = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Moves `staging` to `out`; an existing `out` is replaced only after the new folder is complete. */
export async function replaceFolder(staging: string, out: string) {
  const existing = await stat(out).catch(() => null);
  if (!existing) return rename(staging, out);
  const old = `${staging}.old`;
  await rename(out, old);
  await rename(staging, out);
  await rm(old, { recursive: true, force: true });
}
