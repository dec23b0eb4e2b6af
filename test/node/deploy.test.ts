/** `wrangler deploy --dry-run` bundles the Worker as production would; the bundle must fit Workers' limits. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { testDir } from '../temp-dir.js';

describe('wrangler deploy --dry-run', () => {
  it('bundles the Worker with the ORT engine as a module, under the 10 MiB (gzip) paid-plan limit', () => {
    const out = testDir('bundle-');
    const log = execFileSync(process.execPath, ['node_modules/wrangler/bin/wrangler.js', 'deploy', '--dry-run', '--outdir', out], { encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
    expect(log).toContain('--dry-run: exiting now.');
    const files = readdirSync(out).filter((f) => !f.endsWith('.map') && !f.endsWith('.md'));
    expect(files.some((f) => f.endsWith('ort-wasm-simd-threaded.wasm'))).toBe(true);
    const raw = files.reduce((sum, f) => sum + statSync(join(out, f)).size, 0);
    const gzip = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(out, f))).byteLength, 0);
    console.log(`bundle: ${(raw / 2 ** 20).toFixed(2)} MiB raw, ${(gzip / 2 ** 20).toFixed(2)} MiB gzip`);
    expect(gzip).toBeLessThan(10 * 2 ** 20);
    // The model is not in the bundle (it lives in R2).
    expect(raw).toBeLessThan(20 * 2 ** 20);
  });
});
