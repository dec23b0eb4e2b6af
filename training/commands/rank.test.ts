/** `pipeline rank` on generated images with the test model: the CSV's columns, order and values, --top and --copy-to. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, inject, it } from 'vitest';
import { parseManifest } from '../../src/core/manifest.js';
import { testDir } from '../../test/temp-dir.js';
import { writeShapesDataset } from '../data/write-shapes.js';
import { rankCommand } from './rank.js';

describe('pipeline rank', () => {
  it('lists every image most uncertain first, with its probabilities by label, and copies the top N by predicted label', async () => {
    const model = inject('testModelDir');
    const manifest = parseManifest(JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')));
    const data = testDir('rank-data-');
    await writeShapesDataset({ dir: data, splits: [{ name: 'inbox', perClass: 2 }], seed: 9, minSize: 40, maxSize: 90 });
    const out = join(testDir('rank-out-'), 'next.csv');
    await rankCommand({ model, data, out, by: 'entropy', log: () => {} });
    const rows = parse(readFileSync(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual(['file', 'predicted', 'uncertainty', ...manifest.labels]);
    expect(rows).toHaveLength(2 * manifest.labels.length);
    let previous = Infinity;
    for (const row of rows) {
      const p = manifest.labels.map((l) => Number(row[l]));
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      // The uncertainty column is the entropy of the row's own probabilities, and the prediction their argmax.
      const entropy = -p.reduce((h, v) => h + (v > 0 ? v * Math.log(v) : 0), 0);
      expect(Number(row.uncertainty)).toBeCloseTo(entropy, 6);
      expect(row.predicted).toBe(manifest.labels[p.indexOf(Math.max(...p))]);
      expect(Number(row.uncertainty)).toBeLessThanOrEqual(previous);
      previous = Number(row.uncertainty);
      expect(readdirSync(join(data, row.file!, '..'))).toContain(row.file!.split('/').at(-1));
    }

    const copyTo = testDir('rank-copy-');
    const top = join(testDir('rank-out-'), 'top.csv');
    await rankCommand({ model, data, out: top, by: 'margin', top: 3, copyTo, log: () => {} });
    const topRows = parse(readFileSync(top, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(topRows).toHaveLength(3);
    const copied = readdirSync(copyTo, { recursive: true }).map(String).filter((f) => /\.(png|jpe?g)$/.test(f)).sort();
    expect(copied).toEqual(topRows.map((r) => join(r.predicted!, r.file!.replaceAll('/', '_'))).sort());
  });
});
