/**
 * @module A local folder → objects in the IMAGES bucket under a prefix: into the local R2 of `npm start`
 * (training/r2/local-bucket.ts), or into the real bucket with wrangler's bulk upload. Every regular file goes up, whatever it holds: a file that is not an image gets its error line in
 * the job's results, as the job's contract says.
 */
import { readFile, readdir, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { bucketFromWranglerToml, wrangler } from '../commands/publish.js';
import { withLocalBucket } from '../r2/local-bucket.js';

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

/** Files whose key wrangler's remote upload would change: it puts the key in a URL path unescaped ("#", "?", "%", spaces…). */
export const keysUrlsWouldChange = (objects: FolderObject[]) => objects.filter((o) => o.key.includes('%') || new URL(`http://x/${o.key}`).pathname.slice(1) !== o.key);

/** Uploads the objects: locally through Miniflare, any key as it is; remotely with `wrangler r2 bulk put` (20 at a time). */
export async function uploadObjects(objects: FolderObject[], o: UploadOptions): Promise<void> {
  const bucket = await bucketFromWranglerToml('wrangler.toml', 'IMAGES');
  if (!o.remote) return uploadLocal(objects, bucket, o);
  const work = await mkdtemp(join(tmpdir(), 'edge-resnet-upload-'));
  try {
    const list = join(work, 'objects.json');
    await writeFile(list, JSON.stringify(objects));
    o.log(`uploading ${objects.length} files to R2 bucket ${bucket}`);
    await wrangler(['r2', 'bulk', 'put', bucket, '--filename', list, '--remote', '--force'], o.log);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Into the local R2 of wrangler dev, 8 at a time, any key as it is. */
async function uploadLocal(objects: FolderObject[], bucket: string, o: UploadOptions): Promise<void> {
  o.log(`uploading ${objects.length} files to local R2 bucket ${bucket}`);
  await withLocalBucket(bucket, o.persistTo, async (r2) => {
    let next = 0;
    const uploader = async () => {
      while (next < objects.length) {
        const { key, file } = objects[next++]!;
        await r2.put(key, new Uint8Array(await readFile(file)));
      }
    };
    await Promise.all(Array.from({ length: 8 }, uploader));
  });
}
