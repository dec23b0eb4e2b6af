/**
 * The publish-time fit check: the test model's session heap measured in a fresh process as the Worker creates it
 * (a heap is never 0 and a 32 px ResNet50 fits), and a model whose measured heap leaves no room for a 2 MP photo
 * refused with its figures (the measurement stood in by a cached result, as a second publish of the same model reads it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parseManifest } from '../../src/core/manifest.js';
import { testDir } from '../../test/temp-dir.js';
import { checkFitsWorker, MAX_SESSION_HEAP_MB, ModelTooLargeError } from './worker-fit.js';

describe('checkFitsWorker', () => {
  it("measures the test model's session heap and lets it through; refuses a heap beyond the 2 MP budget", async () => {
    const dir = inject('testModelDir');
    const cache = testDir('fit-');
    const lines: string[] = [];
    const heap = await checkFitsWorker(dir, (l) => lines.push(l), cache);
    expect(heap).toBeGreaterThan(20);
    expect(heap).toBeLessThan(MAX_SESSION_HEAP_MB);
    expect(lines[0]).toMatch(/^fits the Worker/);
    expect(MAX_SESSION_HEAP_MB).toBeGreaterThan(60); // the shipped ResNet50 (57.6 MB in bench.json) must fit
    expect(MAX_SESSION_HEAP_MB).toBeLessThan(80);

    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const [cached] = [`${manifest.sha256}-${manifest.externalData?.graph.sha256 ?? 'inline'}.json`];
    expect(JSON.parse(readFileSync(join(cache, cached!), 'utf8'))).toEqual({ wasm_heap_mb: heap });
    writeFileSync(join(cache, cached!), JSON.stringify({ wasm_heap_mb: 96 }));
    const refused = await checkFitsWorker(dir, () => {}, cache).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModelTooLargeError);
    expect((refused as Error).message).toMatch(/96 MB of wasm heap.*cannot serve it/);
  });
});
