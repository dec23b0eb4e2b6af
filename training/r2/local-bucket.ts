/**
 * @module wrangler dev's local R2, written directly: Miniflare (the library wrangler dev runs on) opened on the same
 * state folder (`<persist-to>/v3`, where wrangler keeps it). One workerd for any number of objects, where
 * `wrangler r2 object put --local` starts one per object; and keys go through as they are (wrangler's local bulk
 * upload puts them in a URL unescaped, which drops what follows a "#" and rewrites spaces and non-ASCII).
 */
import { join } from 'node:path';
import { Miniflare } from 'miniflare';

export type LocalBucket = Awaited<ReturnType<Miniflare['getR2Bucket']>>;

export const DEFAULT_PERSIST_TO = '.wrangler/state';

export async function withLocalBucket<T>(bucket: string, persistTo: string | undefined, work: (r2: LocalBucket) => Promise<T>): Promise<T> {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch: () => new Response(null, { status: 404 }) }',
    defaultPersistRoot: join(persistTo ?? DEFAULT_PERSIST_TO, 'v3'),
    r2Buckets: { BUCKET: bucket },
  });
  try {
    return await work(await mf.getR2Bucket('BUCKET'));
  } finally {
    await mf.dispose();
  }
}
