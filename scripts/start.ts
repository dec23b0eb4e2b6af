/**
 * `npm start [-- --port N]`: the service on the default model, offline. Builds model/ when it is empty,
 * seeds wrangler's local R2 from it when the published manifest differs, then runs `wrangler dev` on
 * 127.0.0.1 (port 8787 by default).
 */
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { OFFLINE_WRANGLER_ENV, publishModel } from '../training/commands/publish.js';
import { buildDefaultModel } from '../training/default-model/build.js';
import { writeFileAtomic } from '../training/model-folder/files.js';
import { vendorDocsAssets } from './vendor-assets.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

const options = new Command('start')
  .description('run the Worker locally on the default model')
  .option('--port <n>', 'port on 127.0.0.1', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a port: ${v}`);
    return n;
  }, 8787)
  .option('--model-dir <dir>', 'model folder to serve', 'model')
  .option('--persist-to <dir>', "wrangler's local state folder", '.wrangler/state')
  .option('--var <name=value...>', 'override a [vars] entry (repeatable)')
  .option('--inspector-port <n>', 'V8 inspector port of the Worker (benchmarks read its heap there)')
  .option('--no-fit-check', "seed a model even when its session leaves no room for a 2 MP photo in 128 MB (benchmarks only)")
  .option('--client-config <wrangler.toml>', "serve that Worker on the port instead, with edge-resnet beside it for its service bindings (examples/workers-ai-client)")
  .parse(process.argv)
  .opts<{ port: number; modelDir: string; persistTo: string; var?: string[]; inspectorPort?: string; clientConfig?: string; fitCheck: boolean }>();

const exists = async (p: string) => (await stat(p).catch(() => null)) !== null;

if (!(await exists(join(options.modelDir, 'manifest.json')))) {
  if (options.modelDir !== 'model') throw new Error(`${options.modelDir} has no manifest.json`);
  log('model/ is empty: building the default model first (npm run model)');
  await buildDefaultModel({ out: 'model', fast: process.env.EDGE_RESNET_FAST_MODEL === '1', force: false, bench: true, log });
}

// Seed the local R2 only when what is published there differs from model/.
const stampPath = join(options.persistTo, 'edge-resnet-published.json');
const manifestText = await readFile(join(options.modelDir, 'manifest.json'), 'utf8');
const published = await readFile(stampPath, 'utf8').catch(() => null);
if (published !== manifestText) {
  await publishModel({ modelDir: options.modelDir, remote: false, persistTo: options.persistTo, skipFitCheck: !options.fitCheck, log });
  await writeFileAtomic(stampPath, manifestText);
} else {
  log('local R2 already holds this model');
}

const vars = (options.var ?? []).flatMap((v) => ['--var', v.replace('=', ':')]);
vendorDocsAssets(); // /docs serves Swagger UI from public/docs/vendor/
// With a client's config first, wrangler dev serves that Worker and runs edge-resnet in the same session.
const configs = options.clientConfig ? ['-c', options.clientConfig, '-c', 'wrangler.toml'] : [];
const args = [join('node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', ...configs, '--ip', '127.0.0.1', '--port', String(options.port), '--persist-to', options.persistTo, '--show-interactive-dev-session=false', ...vars, ...(options.inspectorPort ? ['--inspector-port', options.inspectorPort] : [])];
log(`starting wrangler dev on http://127.0.0.1:${options.port}`);
const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, ...OFFLINE_WRANGLER_ENV } });
const stop = () => child.kill('SIGINT');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('close', (code) => process.exit(code ?? 0));
