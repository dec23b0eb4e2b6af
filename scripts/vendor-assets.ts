/**
 * @module Copies Swagger UI's script and styles from node_modules into public/docs/vendor/ (git-ignored), so
 * /docs is served by the Worker's static assets with no CDN. Idempotent and fast; run by `npm ci` (prepare),
 * `npm start`, the test config and `npm run deploy`.
 */
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DOCS_VENDOR_DIR = join(ROOT, 'public', 'docs', 'vendor');
const FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'];

export function vendorDocsAssets(): void {
  const source = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  mkdirSync(DOCS_VENDOR_DIR, { recursive: true });
  for (const file of FILES) {
    const from = join(source, file);
    const to = join(DOCS_VENDOR_DIR, file);
    const existing = statSync(to, { throwIfNoEntry: false });
    if (existing && existing.size === statSync(from).size && existing.mtimeMs >= statSync(from).mtimeMs) continue;
    copyFileSync(from, to);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) vendorDocsAssets();
