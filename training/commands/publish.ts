/**
 * @module `pipeline publish`: puts a model folder's int8 model into the MODELS R2 bucket under its
 * content-addressed key, then the manifest. Readers only follow the manifest, so a half-uploaded model is
 * never served, and the previous model's object stays until replaced. Uses wrangler's R2 commands, locally
 * (`wrangler dev`'s state in .wrangler/) or, with --remote, in the account wrangler is logged in to.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_KEY, modelKey, parseManifest, type Manifest } from '../../src/core/manifest.js';
import { sha256OfBytes } from '../files.js';

export interface PublishOptions {
  modelDir: string;
  remote: boolean;
  /** Bucket name; default: the MODELS binding's bucket in wrangler.toml. */
  bucket?: string;
  /** wrangler's local state folder (`wrangler dev --persist-to`); default .wrangler/state. */
  persistTo?: string;
  log: (line: string) => void;
}

/** Environment that keeps wrangler from reaching the network for anything but the command itself. */
export const OFFLINE_WRANGLER_ENV = { WRANGLER_SEND_METRICS: 'false', NO_UPDATE_NOTIFIER: '1', WRANGLER_HIDE_BANNER: 'true' };

export async function bucketFromWranglerToml(path = 'wrangler.toml'): Promise<string> {
  const toml = await readFile(path, 'utf8');
  const block = toml.split('[[r2_buckets]]').slice(1).find((b) => /binding\s*=\s*"MODELS"/.test(b));
  const name = block?.match(/bucket_name\s*=\s*"([^"]+)"/)?.[1];
  if (!name) throw new Error('wrangler.toml has no [[r2_buckets]] entry with binding = "MODELS"');
  return name;
}

function wrangler(args: string[], log: (s: string) => void): Promise<void> {
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

/** Verifies the folder (manifest schema, model size and sha256), then uploads model first, manifest last. */
export async function publishModel(o: PublishOptions): Promise<Manifest> {
  const manifest = parseManifest(JSON.parse(await readFile(join(o.modelDir, 'manifest.json'), 'utf8')));
  const bytes = new Uint8Array(await readFile(join(o.modelDir, manifest.file)));
  if (bytes.byteLength !== manifest.bytes || sha256OfBytes(bytes) !== manifest.sha256) {
    throw new Error(`${join(o.modelDir, manifest.file)} does not match its manifest (size or sha256): refusing to publish`);
  }
  const bucket = o.bucket ?? (await bucketFromWranglerToml());
  const where = o.remote ? ['--remote'] : ['--local', ...(o.persistTo ? ['--persist-to', o.persistTo] : [])];
  o.log(`publishing ${manifest.name}@${manifest.version} (${manifest.sha256.slice(0, 12)}…) to ${o.remote ? 'R2' : 'local R2'} bucket ${bucket}`);
  await wrangler(['r2', 'object', 'put', `${bucket}/${modelKey(manifest)}`, '--file', join(o.modelDir, manifest.file), '--content-type', 'application/octet-stream', ...where], o.log);
  await wrangler(['r2', 'object', 'put', `${bucket}/${MANIFEST_KEY}`, '--file', join(o.modelDir, 'manifest.json'), '--content-type', 'application/json', ...where], o.log);
  return manifest;
}
