import { describe, expect, it } from 'vitest';
import { seededRandom } from '../data/random.js';
import { augmentInto, drawAffine, RECIPE_AUGMENTATION, type AffineDraw } from './augment.js';

const N = 9; // centre (4, 4)
const identity: AffineDraw = { angle: 0, tx: 0, ty: 0, zx: 1, zy: 1, flip: false };

/** A planar 3×9×9 image with one hot pixel at (x, y), channel values 10/20/30. */
function hotPixel(x: number, y: number): Float32Array {
  const src = new Float32Array(3 * N * N);
  for (let c = 0; c < 3; c++) src[c * N * N + y * N + x] = 10 * (c + 1);
  return src;
}

/** Where the hot pixel lands (HWC output), and that exactly one pixel is lit. */
function hotPixelAfter(draw: AffineDraw, x: number, y: number): [number, number] {
  const out = new Float32Array(N * N * 3);
  augmentInto(hotPixel(x, y), N, N, draw, out, 0);
  const lit: Array<[number, number]> = [];
  for (let p = 0; p < N * N; p++) if (out[p * 3]! > 5) lit.push([p % N, Math.floor(p / N)]);
  expect(lit).toHaveLength(1);
  const [lx, ly] = lit[0]!;
  expect([out[(ly * N + lx) * 3], out[(ly * N + lx) * 3 + 1], out[(ly * N + lx) * 3 + 2]].map((v) => Math.round(v!))).toEqual([10, 20, 30]);
  return lit[0]!;
}

describe('augmentation geometry (Keras ImageDataGenerator conventions)', () => {
  it('identity keeps the pixel; a shift moves content by tx/ty pixels', () => {
    expect(hotPixelAfter(identity, 6, 4)).toEqual([6, 4]);
    expect(hotPixelAfter({ ...identity, tx: 2 }, 4, 4)).toEqual([6, 4]);
    expect(hotPixelAfter({ ...identity, ty: -3 }, 4, 4)).toEqual([4, 1]);
  });

  it('horizontal flip mirrors about the vertical centre line', () => {
    expect(hotPixelAfter({ ...identity, flip: true }, 6, 3)).toEqual([2, 3]);
  });

  it('a positive angle rotates counter-clockwise on screen (right of centre → above centre at 90°)', () => {
    expect(hotPixelAfter({ ...identity, angle: Math.PI / 2 }, 6, 4)).toEqual([4, 2]);
    expect(hotPixelAfter({ ...identity, angle: Math.PI }, 6, 4)).toEqual([2, 4]);
  });

  it('zoom < 1 magnifies (Keras samples the source at zoom × the distance from the centre)', () => {
    const out = new Float32Array(N * N * 3);
    augmentInto(hotPixel(5, 4), N, N, { ...identity, zx: 0.5 }, out, 0);
    // x = 6 reads source x = 5 exactly; x = 5 and 7 read halfway to neighbours (bilinear).
    expect(out[(4 * N + 6) * 3]).toBeCloseTo(10, 5);
    expect(out[(4 * N + 5) * 3]).toBeCloseTo(5, 5);
    expect(out[(4 * N + 7) * 3]).toBeCloseTo(5, 5);
    expect(out[(4 * N + 4) * 3]).toBeCloseTo(0, 5);
  });

  it('draws stay within the recipe ranges and flip about half the time', () => {
    const random = seededRandom(3);
    const draws = Array.from({ length: 2000 }, () => drawAffine(RECIPE_AUGMENTATION, 100, 80, random));
    for (const d of draws) {
      expect(Math.abs(d.angle)).toBeLessThanOrEqual((20 * Math.PI) / 180);
      expect(Math.abs(d.tx)).toBeLessThanOrEqual(20);
      expect(Math.abs(d.ty)).toBeLessThanOrEqual(16);
      expect(d.zx).toBeGreaterThanOrEqual(0.8);
      expect(d.zx).toBeLessThanOrEqual(1.2);
    }
    const flips = draws.filter((d) => d.flip).length / draws.length;
    expect(flips).toBeGreaterThan(0.45);
    expect(flips).toBeLessThan(0.55);
    expect(Math.max(...draws.map((d) => d.angle))).toBeGreaterThan((18 * Math.PI) / 180);
  });
});

describe('augmentation recipes', () => {
  it("train's default is the reference recipe's affine draw alone; the default model's adds its recolourings, on from the first step", async () => {
    const { TRAIN_AUGMENTATION } = await import('./augment.js');
    const { FULL_RECIPE, recipeAugmentation } = await import('../default-model/recipe.js');
    expect(TRAIN_AUGMENTATION).toEqual({ affine: RECIPE_AUGMENTATION, channelPermutation: null, contrastReduction: null });
    expect(recipeAugmentation(FULL_RECIPE)).toEqual({
      affine: FULL_RECIPE.augment,
      channelPermutation: FULL_RECIPE.channelPermutation!.probability,
      contrastReduction: { probability: FULL_RECIPE.contrastReduction!.probability, lowest: FULL_RECIPE.contrastReduction!.lowest },
    });
    expect(recipeAugmentation({ ...FULL_RECIPE, channelPermutation: null, contrastReduction: null })).toEqual({ affine: FULL_RECIPE.augment, channelPermutation: null, contrastReduction: null });
  });
});
