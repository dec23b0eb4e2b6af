import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { vendorDocsAssets } from './scripts/vendor-assets.js';
import { Watchdog } from './test/setup/watchdog.js';

// The Worker's static assets include Swagger UI's files (normally copied by `npm ci`'s prepare step).
vendorDocsAssets();

export default defineConfig({
  test: {
    // Every file bounded: the slowest (train.e2e) takes ~3.5 min alone on a slow 2-core host and ~5 min beside
    // another file (npm test runs the Node project a file per core); the longest silence (the test model's build in the global setup, one training e2e test) ~2 min.
    // A file or a silence past these fails the run at once with the file's name (test/setup/watchdog.ts).
    reporters: ['default', new Watchdog({ fileSeconds: 900, silentSeconds: 600 })],
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
