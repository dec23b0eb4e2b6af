import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testDir } from '../../test/temp-dir.js';
import { entriesToPrune, pruneCache, useCacheFolder } from './cache.js';

describe('default-model build cache', () => {
  it('keeps the current folder and the most recently used others, up to `keep` in all', () => {
    const entries = [
      { name: 'a', usedMs: 1 },
      { name: 'b', usedMs: 5 },
      { name: 'cur', usedMs: 0 }, // the oldest, but in use
      { name: 'c', usedMs: 3 },
      { name: 'd', usedMs: 4 },
    ];
    expect(entriesToPrune(entries, 'cur', 3).sort()).toEqual(['a', 'c']);
    expect(entriesToPrune(entries, 'cur', 1).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(entriesToPrune(entries, 'cur', 10)).toEqual([]);
    expect(entriesToPrune([], 'cur', 3)).toEqual([]);
  });

  it('marks the folder it uses as recent and removes the stale ones with their contents', async () => {
    const root = testDir('build-cache-');
    const old = new Date(Date.now() - 86_400_000);
    ['k1', 'k2', 'k3', 'k4'].forEach((k, i) => {
      mkdirSync(join(root, k, 'shapes'), { recursive: true });
      writeFileSync(join(root, k, 'model-fp32.onnx'), 'x');
      const t = new Date(old.getTime() + i * 1000);
      utimesSync(join(root, k), t, t);
    });
    writeFileSync(join(root, 'not-a-folder'), 'kept');
    await useCacheFolder(root, 'k1'); // the oldest becomes the newest
    await useCacheFolder(root, 'k5'); // a new key
    expect(existsSync(join(root, 'k5'))).toBe(true);
    expect(await pruneCache(root, 'k5', 3)).toEqual(expect.arrayContaining(['k2', 'k3']));
    expect(readdirSync(root).sort()).toEqual(['k1', 'k4', 'k5', 'not-a-folder']);
  });
});
