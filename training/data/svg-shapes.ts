/**
 * @module An independent renderer for held-out shapes: SVG documents rasterised by librsvg (through sharp),
 * with their own geometry conventions (axis-aligned squares, plus-sign crosses, regular stars, turbulence
 * noise). The model never trains on these; they measure whether it learned shapes or our rasteriser.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { SHAPE_CLASSES, type ShapeClass } from './shapes.js';
import { seededRandom, type Random } from './random.js';

const hex = (random: Random) => `#${Array.from({ length: 3 }, () => random.int(0, 256).toString(16).padStart(2, '0')).join('')}`;

function shapeElement(label: ShapeClass, cx: number, cy: number, r: number, angle: number, fill: string): string {
  const rotate = `transform="rotate(${angle.toFixed(1)} ${cx.toFixed(1)} ${cy.toFixed(1)})"`;
  const points = (pts: Array<[number, number]>) => pts.map(([x, y]) => `${(cx + x).toFixed(1)},${(cy + y).toFixed(1)}`).join(' ');
  switch (label) {
    case 'circle':
      return `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`;
    case 'square': {
      const s = r * 1.5;
      return `<rect x="${cx - s / 2}" y="${cy - s / 2}" width="${s}" height="${s}" fill="${fill}" ${rotate}/>`;
    }
    case 'triangle':
      return `<polygon points="${points([[0, -r], [r * 0.95, r * 0.7], [-r * 0.95, r * 0.7]])}" fill="${fill}" ${rotate}/>`;
    case 'star': {
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 10; k++) {
        const a = -Math.PI / 2 + (k * Math.PI) / 5;
        const rr = k % 2 === 0 ? r : r * 0.45;
        pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
      }
      return `<polygon points="${points(pts)}" fill="${fill}" ${rotate}/>`;
    }
    case 'cross': {
      const t = r * 0.33;
      return `<g ${rotate}><rect x="${cx - r}" y="${cy - t}" width="${2 * r}" height="${2 * t}" fill="${fill}"/><rect x="${cx - t}" y="${cy - r}" width="${2 * t}" height="${2 * r}" fill="${fill}"/></g>`;
    }
  }
}

export function shapeSvg(label: ShapeClass, size: number, random: Random): string {
  const kind = random.pick(['plain', 'gradient', 'noise'] as const);
  const [a, b] = [hex(random), hex(random)];
  let fill = hex(random);
  while (fill === a) fill = hex(random);
  const r = (random.uniform(0.32, 0.72) * size) / 2;
  const cx = random.uniform(r, size - r);
  const cy = random.uniform(r, size - r);
  const angle = random.uniform(0, 360);
  const defs =
    kind === 'gradient'
      ? `<defs><linearGradient id="g" gradientTransform="rotate(${random.int(0, 360)} 0.5 0.5)"><stop offset="0" stop-color="${a}"/><stop offset="1" stop-color="${b}"/></linearGradient></defs>`
      : kind === 'noise'
        ? `<defs><filter id="n"><feTurbulence type="fractalNoise" baseFrequency="${random.uniform(0.3, 0.9).toFixed(2)}" seed="${random.int(0, 1000)}"/><feColorMatrix values="0 0 0 0 0.5  0 0 0 0 0.5  0 0 0 0 0.5  0 0 0 0.5 0"/></filter></defs>`
        : '';
  const background =
    kind === 'gradient'
      ? `<rect width="${size}" height="${size}" fill="url(#g)"/>`
      : kind === 'noise'
        ? `<rect width="${size}" height="${size}" fill="${a}"/><rect width="${size}" height="${size}" filter="url(#n)"/>`
        : `<rect width="${size}" height="${size}" fill="${a}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">${defs}${background}${shapeElement(label, cx, cy, r, angle, fill)}</svg>`;
}

/** The SVG documents of a held-out set, in the order (and random stream) `writeSvgShapes` draws them. */
export function* svgShapeSet(perClass: number, seed: number, size = 128): Generator<{ label: ShapeClass; file: string; svg: string; asPng: boolean }> {
  const random = seededRandom(seed);
  for (const label of SHAPE_CLASSES) {
    for (let i = 0; i < perClass; i++) {
      const asPng = i % 2 === 1;
      yield { label, file: join(label, `svg-${String(i).padStart(4, '0')}.${asPng ? 'png' : 'jpg'}`), svg: shapeSvg(label, size, random), asPng };
    }
  }
}

/** Writes `perClass` SVG-rendered shapes per class as JPEG/PNG under dir/<class>/. */
export async function writeSvgShapes(dir: string, perClass: number, seed: number, size = 128): Promise<number> {
  let written = 0;
  for (const label of SHAPE_CLASSES) await mkdir(join(dir, label), { recursive: true });
  for (const { file, svg, asPng } of svgShapeSet(perClass, seed, size)) {
    const image = sharp(Buffer.from(svg)).flatten({ background: '#ffffff' });
    const bytes = await (asPng ? image.png() : image.jpeg({ quality: 85 })).toBuffer();
    await writeFile(join(dir, file), bytes);
    written++;
  }
  return written;
}
