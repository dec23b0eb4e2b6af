/** `pipeline explain` on the test model: a PNG overlay and a JSON map per image, for the predicted or a given class. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, inject, it } from 'vitest';
import { parseManifest } from '../../src/core/manifest.js';
import { testDir } from '../../test/temp-dir.js';
import { explainCommand } from './explain.js';

describe('pipeline explain', () => {
  it('writes <name>.gradcam.png and .json; --class explains that label instead', async () => {
    const model = inject('testModelDir');
    const manifest = parseManifest(JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')));
    const out = testDir('explain-');
    const image = join(model, 'fixtures', 'circle.jpg');
    const [predicted] = await explainCommand({ model, images: [image], out, log: () => {} });
    const json = JSON.parse(readFileSync(join(out, 'circle.gradcam.json'), 'utf8')) as { layer: string; class: string; probability: number; width: number; height: number; map: number[][] };
    expect(json.layer).toBe('conv3_block4_out'); // 32 px input: conv5 is 1×1, so the last 4×4 block output
    expect([json.width, json.height]).toEqual([4, 4]);
    expect(json.map).toHaveLength(4);
    expect(json.map.flat().every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(json.class).toBe(predicted!.label);
    expect(json.probability).toBe(Math.max(...predicted!.probabilities));
    const png = await sharp(readFileSync(join(out, 'circle.gradcam.png'))).metadata();
    expect([png.format, Math.max(png.width!, png.height!)]).toEqual(['png', 256]);

    const other = manifest.labels.find((l) => l !== predicted!.label)!;
    const [given] = await explainCommand({ model, images: [image], out, className: other, log: () => {} });
    expect(given!.label).toBe(other);
    await expect(explainCommand({ model, images: [image], out, className: 'zebra', log: () => {} })).rejects.toThrow(/labels are/);
  });
});
