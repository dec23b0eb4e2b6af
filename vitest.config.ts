import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { vendorDocsAssets } from './scripts/vendor-assets.js';

// The Worker's static assets include Swagger UI's files (normally copied by `npm ci`'s prepare step).
vendorDocsAssets();

export default defineConfig({
  test: {
    projects: [
      {
        // Inside workerd, with the wrangler.toml bindings: the Worker as it runs in production.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: { bindings: { DEBUG_ROUTES: '1', MANIFEST_TTL_SECONDS: '0' } },
          }),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          globalSetup: ['test/setup/model-server.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['src/**/*.test.ts', 'training/**/*.test.ts', 'test/node/**/*.test.ts'],
          globalSetup: ['test/setup/model-server.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
