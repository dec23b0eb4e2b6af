/**
 * @module A local folder → objects in the IMAGES bucket under a prefix, with wrangler's bulk upload (local R2 of
 * `npm start`, or the real bucket with `remote`). Every regular file goes up, whatever it holds: a file that is
 * not an image gets its error line in the job's results, as the job's contract says.
 */
import { readdir, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { bucketFromWranglerToml, wrangler } from '../commands/publish.js';

export interface FolderObject {
  key: string;
  file: string;
}

/** Every regular file under `dir` (sorted), keyed `prefix` + its path with forward slashes. */
export async function folderObjects(dir: string, prefix: string): Promise<FolderObject[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((file) => ({ key: prefix + relative(dir, file).split(sep).join('/'), file }));
}

export interface UploadOptions {
  remote: boolean;
  /** wrangler dev's state folder (local uploads). */
  persistTo?: string;
  log: (line: string) => void;
}

/** Uploads the objects with `wrangler r2 bulk put` (20 at a time). */
export async function uploadObjects(objects: FolderObject[], o: UploadOptions): Promise<void> {
  const bucket = await bucketFromWranglerToml('wrangler.toml', 'IMAGES');
  const work = await mkdtemp(join(tmpdir(), 'edge-resnet-upload-'));
  try {
    const list = join(work, 'objects.json');
    await writeFile(list, JSON.stringify(objects));
    const where = o.remote ? ['--remote', '--force'] : ['--local', ...(o.persistTo ? ['--persist-to', o.persistTo] : [])];
    o.log(`uploading ${objects.length} files to ${o.remote ? 'R2' : 'local R2'} bucket ${bucket}`);
    await wrangler(['r2', 'bulk', 'put', bucket, '--filename', list, ...where], o.log);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
