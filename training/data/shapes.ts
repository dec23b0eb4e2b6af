/** @module The synthetic shapes task the default model learns: one filled shape per image, drawn anti-aliased. */
import type { Random } from './random.js';

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'cross'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

type Point = readonly [number, number];
type Rgb = [number, number, number];

/** Outline of a shape of radius 1 centred on the origin (circles are tested analytically instead). */
function outline(shape: Exclude<ShapeClass, 'circle'>, random: Random, crossHalfThickness: readonly [number, number]): Point[] {
  switch (shape) {
    case 'square': {
      const h = Math.SQRT1_2;
      return [[-h, -h], [h, -h], [h, h], [-h, h]];
    }
    case 'triangle': {
      // Equilateral with jittered corners, or the "isosceles in a box" that many drawing APIs produce.
      if (random.next() < 0.5) {
        return [0, 1, 2].map((k) => {
          const a = -Math.PI / 2 + (k * 2 * Math.PI) / 3 + random.uniform(-0.2, 0.2);
          return [Math.cos(a), Math.sin(a)] as Point;
        });
      }
      const w = random.uniform(0.75, 1);
      return [[0, -1], [w, 0.8], [-w, 0.8]];
    }
    case 'star': {
      const points = 5;
      const inner = random.uniform(0.36, 0.52);
      return Array.from({ length: points * 2 }, (_, k) => {
        const a = -Math.PI / 2 + (k * Math.PI) / points;
        const r = k % 2 === 0 ? 1 : inner;
        return [r * Math.cos(a), r * Math.sin(a)] as Point;
      });
    }
    case 'cross': {
      const t = random.uniform(...crossHalfThickness); // half the arm thickness
      const l = 0.95;
      return [[-t, -l], [t, -l], [t, -t], [l, -t], [l, t], [t, t], [t, l], [-t, l], [-t, t], [-l, t], [-l, -t], [-t, -t]];
    }
  }
}

/** Even-odd point-in-polygon (stars are not convex). */
function inside(poly: Point[], x: number, y: number): boolean {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

/** Distance from (x, y) to the polygon's outline. */
function edgeDistance(poly: Point[], x: number, y: number): number {
  let best = Infinity;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [ax, ay] = poly[j];
    const [bx, by] = poly[i];
    const dx = bx - ax;
    const dy = by - ay;
    const t = Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
    best = Math.min(best, Math.hypot(x - ax - t * dx, y - ay - t * dy));
  }
  return best;
}

const luminance = ([r, g, b]: Rgb) => 0.299 * r + 0.587 * g + 0.114 * b;
const randomColour = (random: Random): Rgb => [random.int(0, 256), random.int(0, 256), random.int(0, 256)];

export interface ShapeImage {
  label: ShapeClass;
  width: number;
  height: number;
  /** RGBA, opaque. */
  rgba: Uint8Array;
  /** The shape's diameter (its circumscribed circle's) as a fraction of the side. */
  diameter: number;
  /** With `withMask`: the shape's coverage of each pixel, 0..1, row-major (where it is, for explanation checks). */
  mask?: Float32Array;
}

export interface DrawOptions {
  /** Range of a cross's half arm thickness (fraction of its radius); default 0.2–0.36. */
  crossHalfThickness?: readonly [number, number];
  /** Also return the shape's coverage mask (draws nothing differently: no extra random numbers). */
  withMask?: boolean;
}

/** Paints the background: plain, a linear gradient, or noise around a base colour. */
function paintBackground(rgba: Uint8Array, size: number, random: Random): Rgb {
  const kind = random.pick(['plain', 'gradient', 'noise'] as const);
  const a = randomColour(random);
  const b = randomColour(random);
  const angle = random.uniform(0, 2 * Math.PI);
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const sigma = random.uniform(8, 40);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = (y * size + x) * 4;
      let c: Rgb = a;
      if (kind === 'gradient') {
        const t = Math.min(Math.max(((x / size - 0.5) * dx + (y / size - 0.5) * dy) + 0.5, 0), 1);
        c = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
      } else if (kind === 'noise') {
        const n = random.normal() * sigma;
        c = [a[0] + n + random.normal() * sigma * 0.3, a[1] + n, a[2] + n];
      }
      rgba[p] = c[0];
      rgba[p + 1] = c[1];
      rgba[p + 2] = c[2];
      rgba[p + 3] = 255;
    }
  }
  return kind === 'gradient' ? [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2] : a;
}

/**
 * Draws one `label` shape on a `size`×`size` canvas: random colour (kept apart from the background),
 * size 30–75 % of the side, random position and rotation; 4×4 supersampled edges.
 */
export function drawShape(label: ShapeClass, size: number, random: Random, options: DrawOptions = {}): ShapeImage {
  const rgba = new Uint8Array(size * size * 4);
  const background = paintBackground(rgba, size, random);
  let colour = randomColour(random);
  for (let tries = 0; tries < 20 && Math.abs(luminance(colour) - luminance(background)) < 60; tries++) colour = randomColour(random);
  const diameter = random.uniform(0.3, 0.75);
  const radius = (diameter * size) / 2;
  const cx = random.uniform(radius, size - radius);
  const cy = random.uniform(radius, size - radius);
  const rotation = random.uniform(0, 2 * Math.PI);
  const [cos, sin] = [Math.cos(rotation), Math.sin(rotation)];
  const poly = label === 'circle' ? null : outline(label, random, options.crossHalfThickness ?? [0.2, 0.36]);
  const covered = (x: number, y: number) => {
    const u = (x - cx) / radius;
    const v = (y - cy) / radius;
    if (poly === null) return u * u + v * v <= 1;
    return inside(poly, cos * u + sin * v, -sin * u + cos * v);
  };
  // Pixels farther than one pixel from the outline are fully in or out; only edge pixels are supersampled.
  const edgeBand = 1 / radius;
  const nearEdge = (x: number, y: number) => {
    const u = (x - cx) / radius;
    const v = (y - cy) / radius;
    if (poly === null) return Math.abs(Math.hypot(u, v) - 1) < edgeBand;
    return edgeDistance(poly, cos * u + sin * v, -sin * u + cos * v) < edgeBand;
  };
  const ss = 4;
  const mask = options.withMask ? new Float32Array(size * size) : undefined;
  const x0 = Math.max(0, Math.floor(cx - radius - 1));
  const x1 = Math.min(size, Math.ceil(cx + radius + 1));
  const y0 = Math.max(0, Math.floor(cy - radius - 1));
  const y1 = Math.min(size, Math.ceil(cy + radius + 1));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      let α: number;
      if (nearEdge(x + 0.5, y + 0.5)) {
        let hits = 0;
        for (let sy = 0; sy < ss; sy++) for (let sx = 0; sx < ss; sx++) if (covered(x + (sx + 0.5) / ss, y + (sy + 0.5) / ss)) hits++;
        α = hits / (ss * ss);
      } else {
        α = covered(x + 0.5, y + 0.5) ? 1 : 0;
      }
      if (α === 0) continue;
      if (mask) mask[y * size + x] = α;
      const p = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) rgba[p + c] = Math.round(α * colour[c] + (1 - α) * rgba[p + c]);
    }
  }
  return { label, width: size, height: size, rgba, diameter, ...(mask ? { mask } : {}) };
}
