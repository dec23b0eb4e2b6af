/**
 * The tree shows its plan: training/ by concern with only the CLI at its root; bench/'s top level is the suite
 * (each script reachable from package.json or BENCHMARKS.md) with its helpers in lib/; every experiment sits in
 * experiments/<docs page>/ and that page names it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const filesIn = (dir: string) => readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());

describe('the tree', () => {
  it('training/ holds only the CLI (and its config) at its root', () => {
    expect(filesIn('training').filter((f) => f.endsWith('.ts'))).toEqual(['cli.ts']);
  });

  it("bench/'s top-level scripts are each reachable from package.json or BENCHMARKS.md", () => {
    const reachable = readFileSync('package.json', 'utf8') + readFileSync('BENCHMARKS.md', 'utf8');
    const scripts = filesIn('bench').filter((f) => /\.(ts|py|sh)$/.test(f));
    expect(scripts.length).toBeGreaterThan(3);
    for (const f of scripts) expect(reachable, `bench/${f}`).toContain(`bench/${f}`);
  });

  it('every experiment is in a folder named after the docs/ page that quotes it, and the page names it', () => {
    const pages = readdirSync('bench/experiments');
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) {
      const doc = join('docs', `${page}.md`);
      expect(existsSync(doc), doc).toBe(true);
      const text = readFileSync(doc, 'utf8');
      for (const f of filesIn(join('bench', 'experiments', page))) expect(text, `${doc} names bench/experiments/${page}/${f}`).toContain(`bench/experiments/${page}/${f}`);
    }
  });
});
