/**
 * @module `pipeline publish`: puts a model folder's int8 model into the MODELS R2 bucket under its
 * content-addressed key, then the manifest. Readers only follow the manifest, so a half-uploaded model is
 * never served, and the previous model's object stays until replaced. Locally into `wrangler dev`'s state
 * (.wrangler/, through training/r2/local-bucket.ts) or, with --remote, with wrangler's R2 commands in the account
 * wrangler is logged in to.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exampleKey, MANIFEST_KEY, modelKey, parseManifest, weightsKey, type Manifest } from '../../src/core/manifest.js';
import { sha256OfBytes } from '../model-folder/files.js';
import { checkFitsWorker } from '../onnx/worker-fit.js';
import { withLocalBucket } from '../r2/local-bucket.js';

export interface PublishOptions {
  modelDir: string;
  remote: boolean;
  /** Bucket name; default: the MODELS binding's bucket in wrangler.toml. */
  bucket?: string;
  /** wrangler's local state folder (`wrangler dev --persist-to`); default .wrangler/state. */
  persistTo?: string;
  /** Publish even when the session would not leave room for a 2 MP photo (benchmarks measuring such a model locally). */
  skipFitCheck?: boolean;
  log: (line: string) => void;
}

/**
 * Environment that keeps wrangler from reaching the network for anything but the command itself: no telemetry,
 * update check or banner, and no fetch of the `Request.cf` sample from workers.cloudflare.com (offline that
 * costs a 3 s timeout and a stack trace per Worker started).
 */
export const OFFLINE_WRANGLER_ENV = { WRANGLER_SEND_METRICS: 'false', NO_UPDATE_NOTIFIER: '1', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };

/** The bucket name wrangler.toml gives an R2 binding (MODELS by default). */
export async function bucketFromWranglerToml(path = 'wrangler.toml', binding = 'MODELS'): Promise<string> {
  const toml = await readFile(path, 'utf8');
  const block = toml.split('[[r2_buckets]]').slice(1).find((b) => new RegExp(`binding\\s*=\\s*"${binding}"`).test(b));
  const name = block?.match(/bucket_name\s*=\s*"([^"]+)"/)?.[1];
  if (!name) throw new Error(`wrangler.toml has no [[r2_buckets]] entry with binding = "${binding}"`);
  return name;
}

/** Runs a wrangler command offline-quiet; rejects with its last lines of output when it fails. */
export function wrangler(args: string[], log: (s: string) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [join('node_modules', 'wrangler', 'bin', 'wrangler.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...OFFLINE_WRANGLER_ENV } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`wrangler ${args.slice(0, 4).join(' ')} failed (${code}):\n${output.trim().split('\n').slice(-8).join('\n')}`));
    });
  }).then(() => log(`  wrangler ${args.slice(0, 4).join(' ')}`));
}

/** The folder's file must be what the manifest says (size and sha256), or nothing is published. */
async function verifiedPath(dir: string, ref: { file: string; bytes: number; sha256: string }): Promise<string> {
  const path = join(dir, ref.file);
  const bytes = new Uint8Array(await readFile(path));
  if (bytes.byteLength !== ref.bytes || sha256OfBytes(bytes) !== ref.sha256) throw new Error(`${path} does not match its manifest (size or sha256): refusing to publish`);
  return path;
}

/**
 * Verifies the folder (manifest schema, every file's size and sha256), then uploads the objects first (the
 * external-data form the Worker loads, and the model file itself, which Workers older than that form read) and
 * the manifest last.
 */
export async function publishModel(o: PublishOptions): Promise<Manifest> {
  const manifest = parseManifest(JSON.parse(await readFile(join(o.modelDir, 'manifest.json'), 'utf8')));
  // Nothing is uploaded for a model the Worker could not serve (its session's heap, measured, beside a 2 MP photo).
  if (!o.skipFitCheck) await checkFitsWorker(o.modelDir, o.log);
  const objects: Array<[key: string, path: string]> = [];
  if (manifest.externalData) {
    objects.push([weightsKey(manifest.externalData.weights), await verifiedPath(o.modelDir, manifest.externalData.weights)]);
    objects.push([modelKey(manifest.externalData.graph), await verifiedPath(o.modelDir, manifest.externalData.graph)]);
  }
  objects.push([modelKey(manifest), await verifiedPath(o.modelDir, manifest)]);
  for (const example of manifest.examples ?? []) objects.push([exampleKey(example), await verifiedPath(o.modelDir, example)]);
  const bucket = o.bucket ?? (await bucketFromWranglerToml());
  o.log(`publishing ${manifest.name}@${manifest.version} (${manifest.sha256.slice(0, 12)}…) to ${o.remote ? 'R2' : 'local R2'} bucket ${bucket}`);
  const all: Array<[key: string, path: string, contentType: string]> = [...objects.map(([k, p]): [string, string, string] => [k, p, 'application/octet-stream']), [MANIFEST_KEY, join(o.modelDir, 'manifest.json'), 'application/json']];
  if (!o.remote) {
    // One local runtime for all of them, in the same order: objects first, manifest last.
    await withLocalBucket(bucket, o.persistTo, async (r2) => {
      for (const [key, path, contentType] of all) {
        await r2.put(key, new Uint8Array(await readFile(path)), { httpMetadata: { contentType } });
        o.log(`  put ${key}`);
      }
    });
    return manifest;
  }
  for (const [key, path, contentType] of all) await wrangler(['r2', 'object', 'put', `${bucket}/${key}`, '--file', path, '--content-type', contentType, '--remote'], o.log);
  return manifest;
}
