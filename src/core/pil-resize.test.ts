import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pythonWith } from '../../test/reference/python.js';
import { suiteDir } from '../../test/temp-dir.js';
import { decodeImage } from './image/decode.js';
import type { DecodedImage } from './image/types.js';
import { pilResize, type PilFilter, type ResizeBox, type RgbSource } from './pil-resize.js';
import { preprocessImage } from './preprocess.js';
import { IMAGENET_MEAN, IMAGENET_STD, caffePreprocess, type PreprocessSpec } from './preprocess-spec.js';

const CORPORA = '../shared/corpora/photos';
const { python, reason } = pythonWith(['PIL', 'numpy']);
const torchvision = pythonWith(['PIL', 'numpy', 'torchvision']);

/** Reference images: real photos of several sizes and aspect ratios, and two small synthetic ones (enlarging). */
function referenceImages(): Array<{ name: string; image: DecodedImage }> {
  const files = ['debian-python3-skimage/astronaut.png', 'debian-python3-skimage/coffee.png', 'debian-python3-skimage/chelsea.png', 'imagenet-sample-images-subset/n02099601_golden_retriever.JPEG', 'imagenet-sample-images-subset/n01440764_tench.JPEG']
    .map((f) => join(CORPORA, f))
    .filter((f) => existsSync(f));
  const images = files.map((f) => ({ name: f.split('/').at(-1)!, image: decodeImage(new Uint8Array(readFileSync(f))) }));
  const synthetic = (w: number, h: number, seed: number): DecodedImage => {
    const data = new Uint8Array(w * h * 3);
    let s = seed;
    for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    return { width: w, height: h, channels: 3, data, orientation: 1 };
  };
  return [...images, { name: 'noise-37x23', image: synthetic(37, 23, 7) }, { name: 'noise-97x61', image: synthetic(97, 61, 11) }];
}

const source = (image: DecodedImage): RgbSource => ({
  width: image.width,
  height: image.height,
  read(x, y, out, at) {
    const p = (y * image.width + x) * image.channels;
    out[at] = image.data[p]!;
    out[at + 1] = image.data[p + 1]!;
    out[at + 2] = image.data[p + 2]!;
  },
});

/** A binary PPM of the RGB channels (alpha dropped): what both sides resize. */
function writePpm(path: string, image: DecodedImage) {
  const rgb = Buffer.alloc(image.width * image.height * 3);
  for (let i = 0; i < image.width * image.height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = image.data[i * image.channels + c]!;
  writeFileSync(path, Buffer.concat([Buffer.from(`P6\n${image.width} ${image.height}\n255\n`), rgb]));
}

interface Case {
  filter: PilFilter;
  size: (w: number, h: number) => [number, number];
  box?: (w: number, h: number) => [number, number, number, number];
  crop?: (rw: number, rh: number) => [number, number, number, number];
}
const shorter = (s: number) => (w: number, h: number): [number, number] => (w <= h ? [s, Math.trunc((s * h) / w)] : [Math.trunc((s * w) / h), s]);
const centre = (c: number) => (rw: number, rh: number): [number, number, number, number] => {
  const [l, t] = [Math.floor((rw - c) / 2), Math.floor((rh - c) / 2)];
  return [l, t, l + c, t + c];
};
const CASES: Record<string, Case> = {
  'bilinear, shorter side 256, crop 224 (torchvision)': { filter: 'bilinear', size: shorter(256), crop: centre(224) },
  'bicubic, shorter side 235, crop 224 (timm at crop_pct 0.95)': { filter: 'bicubic', size: shorter(235), crop: centre(224) },
  'nearest, the whole image to 224×224 (Keras flow_from_directory)': { filter: 'nearest', size: () => [224, 224] },
  'bicubic to 61×47 (odd, both ways)': { filter: 'bicubic', size: () => [61, 47] },
  'nearest to 61×47': { filter: 'nearest', size: () => [61, 47] },
  'bilinear from a fractional box (a centre crop of 87.5 %)': {
    filter: 'bilinear',
    size: () => [224, 224],
    box: (w, h) => {
      const side = Math.min(w, h) * 0.875;
      return [(w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2];
    },
  },
};

describe.skipIf(!python)(`pilResize against Pillow's own Image.resize${python ? '' : ` (skipped: ${reason})`}`, () => {
  const images = referenceImages();
  let dir = '';
  beforeAll(() => {
    dir = suiteDir('pil-resize-');
    for (const { name, image } of images) writePpm(join(dir, `${name}.ppm`), image);
  });

  it('holds the corpus photos it compares (CI has ../shared/corpora)', () => {
    if (!existsSync(CORPORA)) console.warn(`pil-resize: ${CORPORA} is absent: only the synthetic images are compared`);
    expect(images.length).toBeGreaterThanOrEqual(existsSync(CORPORA) ? 7 : 2);
  });

  it.each(Object.entries(CASES))('%s: byte for byte', (_, c) => {
    const jobs = images.map(({ name, image }) => {
      const [rw, rh] = c.size(image.width, image.height);
      return { name, image, rw, rh, input: join(dir, `${name}.ppm`), filter: c.filter, size: [rw, rh], box: c.box?.(image.width, image.height) ?? null, crop: c.crop?.(rw, rh) ?? null, out: join(dir, `${name}.rgb`) };
    });
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify(jobs.map(({ image: _i, ...j }) => j)));
    python!.run('pil_resize.py', [join(dir, 'jobs.json')]);
    for (const j of jobs) {
      const [x0, y0, x1, y1] = j.box ?? [0, 0, j.image.width, j.image.height];
      const [l, t, r, b] = j.crop ?? [0, 0, j.rw, j.rh];
      const box: ResizeBox = { resizedWidth: j.rw, resizedHeight: j.rh, source: { x0, y0, x1, y1 }, left: l, top: t, width: r - l, height: b - t };
      const ours = pilResize(source(j.image), box, c.filter);
      const theirs = new Uint8Array(readFileSync(j.out));
      expect(theirs.length, j.name).toBe(ours.length);
      let differing = 0;
      for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) differing++;
      expect(differing, `${j.name}: bytes that differ from Pillow's`).toBe(0);
    }
  });
});

/** The recipes' whole eval transform (geometry, filter, normalisation) against their own code. */
describe.skipIf(!torchvision.python)(`preprocessImage against the recipes' own transforms${torchvision.python ? '' : ` (skipped: ${torchvision.reason})`}`, () => {
  const images = referenceImages();
  const recipes: Array<{ recipe: string; interpolation: PilFilter; cropPct: number; spec: PreprocessSpec }> = [
    { recipe: 'torchvision', interpolation: 'bilinear', cropPct: 0.875, spec: { ...caffePreprocess(224, 224), resize: 'shorter-side', resizeShorter: 256, cropRounding: 'round-half-even', filter: 'bilinear', colorOrder: 'RGB', mean: IMAGENET_MEAN, std: IMAGENET_STD, alphaBackground: null } },
    { recipe: 'timm', interpolation: 'bicubic', cropPct: 0.95, spec: { ...caffePreprocess(224, 224), resize: 'shorter-side', resizeShorter: 235, cropRounding: 'round-half-even', filter: 'bicubic', colorOrder: 'RGB', mean: IMAGENET_MEAN, std: IMAGENET_STD, alphaBackground: null } },
    { recipe: 'hf-convnext', interpolation: 'bicubic', cropPct: 0.875, spec: { ...caffePreprocess(224, 224), resize: 'shorter-side', resizeShorter: 256, cropRounding: 'floor', filter: 'bicubic', colorOrder: 'RGB', mean: IMAGENET_MEAN, std: IMAGENET_STD, alphaBackground: null } },
    { recipe: 'keras', interpolation: 'nearest', cropPct: 1, spec: { ...caffePreprocess(224, 224), filter: 'nearest', alphaBackground: null } },
  ];
  it.each(recipes.map((r) => [r.recipe, r] as const))('%s: the model input as the recipe’s, to float32 rounding (1e-5, relative above 1)', (_, r) => {
    const dir = suiteDir('recipe-');
    const jobs = images.map(({ name, image }) => {
      writePpm(join(dir, `${name}.ppm`), image);
      return { input: join(dir, `${name}.ppm`), recipe: r.recipe, size: 224, crop_pct: r.cropPct, interpolation: r.interpolation, out: join(dir, `${name}.f32`) };
    });
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify(jobs));
    torchvision.python!.run('recipe_transforms.py', [join(dir, 'jobs.json')]);
    for (const [i, { name, image }] of images.entries()) {
      const ours = preprocessImage(image, r.spec);
      const theirs = new Float32Array(new Uint8Array(readFileSync(jobs[i]!.out)).buffer);
      expect(theirs.length, name).toBe(ours.length);
      let worst = 0;
      // Same pixels, the same formula in float32 there (its constants rounded too) and float64 here: ulps apart.
      for (let k = 0; k < ours.length; k++) worst = Math.max(worst, Math.abs(ours[k]! - theirs[k]!) / Math.max(1, Math.abs(theirs[k]!)));
      expect(worst, `${name}: max |Δ| / max(1, |x|)`).toBeLessThan(1e-5);
    }
  });
});
