import { describe, expect, it } from 'vitest';
import type { DecodedImage, Orientation } from './image/types.js';
import { axisTaps, preprocessImage } from './preprocess.js';
import { caffePreprocess, type PreprocessSpec } from './preprocess-spec.js';

const rgb = (width: number, height: number, f: (x: number, y: number) => [number, number, number]): DecodedImage => {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(f(x, y), (y * width + x) * 3);
  return { width, height, channels: 3, data, orientation: 1 };
};

const identity: PreprocessSpec = { ...caffePreprocess(2, 2), colorOrder: 'RGB', mean: [0, 0, 0], std: [1, 1, 1] };

describe('axisTaps', () => {
  it('shrinking averages exactly the covered area', () => {
    const t = axisTaps(3, 0, 3, 2); // each output covers 1.5 source pixels
    [2 / 3, 1 / 3, 1 / 3, 2 / 3].forEach((w, i) => expect(t.weights[i]).toBeCloseTo(w, 6));
    expect(Array.from(t.first)).toEqual([0, 1]);
  });
  it('enlarging is bilinear with half-pixel centres', () => {
    const t = axisTaps(2, 0, 2, 4);
    expect(Array.from(t.first)).toEqual([0, 0, 0, 1]);
    expect(Array.from(t.weights)).toEqual([1, 0.75, 0.25, 0.25, 0.75, 1]);
  });
});

describe('preprocessImage', () => {
  it('box-averages a 4×4 image to 2×2, planar RGB', () => {
    const img = rgb(4, 4, (x, y) => [x < 2 ? 10 : 20, y < 2 ? 30 : 50, x + y]);
    const t = preprocessImage(img, identity);
    expect(Array.from(t.slice(0, 4))).toEqual([10, 20, 10, 20]);
    expect(Array.from(t.slice(4, 8))).toEqual([30, 30, 50, 50]);
    expect(Array.from(t.slice(8, 12))).toEqual([1, 3, 3, 5]);
  });

  it('caffe mode: BGR planes minus the ImageNet means', () => {
    const t = preprocessImage(rgb(1, 1, () => [200, 100, 50]), caffePreprocess(1, 1));
    expect(t[0]).toBeCloseTo(50 - 103.939, 4);
    expect(t[1]).toBeCloseTo(100 - 116.779, 4);
    expect(t[2]).toBeCloseTo(200 - 123.68, 4);
  });

  it('composites alpha on the spec background', () => {
    const img: DecodedImage = { width: 1, height: 1, channels: 4, data: Uint8Array.of(0, 0, 0, 64), orientation: 1 };
    const t = preprocessImage(img, { ...identity, width: 1, height: 1 });
    expect(t[0]).toBeCloseTo(255 * (1 - 64 / 255), 3);
  });

  it('every EXIF orientation gives the same upright tensor', () => {
    // An upright 3×2 image, stored as each orientation would store it.
    const upright = [[1, 2, 3], [4, 5, 6]];
    const stored: Record<Orientation, number[][]> = {
      1: upright,
      2: upright.map((r) => [...r].reverse()),
      3: [...upright].reverse().map((r) => [...r].reverse()),
      4: [...upright].reverse(),
      5: [[1, 4], [2, 5], [3, 6]],
      6: [[3, 6], [2, 5], [1, 4]], // shown after a 90° clockwise turn
      7: [[6, 3], [5, 2], [4, 1]],
      8: [[4, 1], [5, 2], [6, 3]], // shown after a 90° counter-clockwise turn
    };
    const spec = { ...identity, width: 3, height: 2 };
    const expected = Array.from(preprocessImage(rgb(3, 2, (x, y) => [upright[y]![x]! * 10, 0, 0]), spec).slice(0, 6));
    for (const [o, rows] of Object.entries(stored)) {
      const img = { ...rgb(rows[0]!.length, rows.length, (x, y) => [rows[y]![x]! * 10, 0, 0]), orientation: Number(o) as Orientation };
      expect(Array.from(preprocessImage(img, spec).slice(0, 6)), `orientation ${o}`).toEqual(expected);
    }
  });

  it('center-crop reads the centre of the image', () => {
    const img = rgb(4, 2, (x) => [x * 10, 0, 0]);
    const t = preprocessImage(img, { ...identity, resize: 'center-crop', cropFraction: 1, width: 1, height: 1 });
    expect(t[0]).toBeCloseTo(15, 5); // mean of columns 1 and 2
  });
});
