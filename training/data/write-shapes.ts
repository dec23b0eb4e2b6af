/** @module Writes the synthetic shapes data set to disk as real JPEG and PNG files, one folder per class. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { drawShape, SHAPE_CLASSES, type DrawOptions, type ShapeClass } from './shapes.js';
import { seededRandom } from './random.js';

export interface ShapesSplit {
  name: string;
  perClass: number;
  /** Only these classes (default: all). */
  classes?: readonly ShapeClass[];
  draw?: DrawOptions;
}

export interface ShapesDatasetOptions {
  dir: string;
  splits: ShapesSplit[];
  seed: number;
  /** Canvas side range in pixels (square images). */
  minSize?: number;
  maxSize?: number;
  /** Called after each image is written (progress). */
  onImage?: () => void;
}

/** Draws and writes every image; a third are PNG, the rest JPEG at quality 60–95. Deterministic in `seed`. */
export async function writeShapesDataset(options: ShapesDatasetOptions): Promise<number> {
  const { dir, splits, seed, minSize = 64, maxSize = 160 } = options;
  let written = 0;
  for (const [s, split] of splits.entries()) {
    const random = seededRandom(seed * 1000 + s);
    for (const label of split.classes ?? SHAPE_CLASSES) {
      const folder = join(dir, split.name, label);
      await mkdir(folder, { recursive: true });
      for (let i = 0; i < split.perClass; i++) {
        const img = drawShape(label, random.int(minSize, maxSize + 1), random, split.draw);
        const asPng = random.next() < 1 / 3;
        const quality = random.int(60, 96);
        // libvips encodes ~40× faster than jpeg-js's encoder, which rebuilds its tables on every call.
        const raw = sharp(img.rgba, { raw: { width: img.width, height: img.height, channels: 4 } });
        const bytes = await (asPng ? raw.png() : raw.jpeg({ quality })).toBuffer();
        await writeFile(join(folder, `${String(i).padStart(5, '0')}.${asPng ? 'png' : 'jpg'}`), bytes);
        written++;
        options.onImage?.();
      }
    }
  }
  return written;
}
