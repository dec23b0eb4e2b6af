import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';
import { drawShape, SHAPE_CLASSES } from './shapes.js';

const diameters = (n: number) => {
  const random = seededRandom(11);
  return Array.from({ length: n }, (_, i) => drawShape(SHAPE_CLASSES[i % 5]!, 48, random).diameter);
};

describe('drawShape sizes', () => {
  it('draws the task\u2019s 30–75 % of the side, spread over the whole range', () => {
    const d = diameters(400);
    expect(Math.min(...d)).toBeGreaterThanOrEqual(0.3);
    expect(Math.max(...d)).toBeLessThanOrEqual(0.75);
    expect(d.filter((x) => x < 0.4).length / d.length).toBeCloseTo(0.1 / 0.45, 1);
  });

  it('paints the shape where it says: a circle\u2019s disc has its diameter', () => {
    const random = seededRandom(3);
    let checked = 0;
    for (let k = 0; k < 20; k++) {
      const img = drawShape('circle', 96, random);
      // The disc is one colour; count the pixels of the most common colour among fully covered ones. Its
      // area πr² (in pixels) gives the diameter back, within the edge's anti-aliasing.
      const counts = new Map<number, number>();
      for (let p = 0; p < img.rgba.length; p += 4) {
        const key = (img.rgba[p]! << 16) | (img.rgba[p + 1]! << 8) | img.rgba[p + 2]!;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const [, pixels] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
      const expected = Math.PI * ((img.diameter * 96) / 2) ** 2;
      // A plain background can outnumber the disc; then the disc is not the most common colour: skip it.
      if (pixels > 96 * 96 - expected - 200) continue;
      expect(Math.abs(pixels - expected) / expected, `draw ${k}`).toBeLessThan(0.1);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });
});
