/** @module A Grad-CAM map drawn over its image: a blue → green → yellow → red ramp, blended by heat, as PNG. */
import sharp from 'sharp';
import { resizeGeometry } from '../../src/core/preprocess.js';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';
import type { GradCam } from './gradcam.js';
import { resizeMap } from './gradcam.js';

/** Heat in [0, 1] → RGB (a "jet"-like ramp: cold blue, hot red). */
export function heatColour(h: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * h - 3)), c(1.5 - Math.abs(4 * h - 2)), c(1.5 - Math.abs(4 * h - 1))];
}

/**
 * The image (EXIF-oriented), scaled so its long side is `side`, with the map over the region the model saw:
 * all of it for a `stretch` model, the centred crop for the cropping ones. For a person to look at.
 */
export async function overlayPng(image: Uint8Array, cam: GradCam, spec: PreprocessSpec, side = 256): Promise<Uint8Array> {
  const { data, info } = await sharp(image).rotate().resize(side, side, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgba = new Uint8Array(data);
  const { width, height } = info;
  // The window the model read, in this picture's coordinates (the whole picture for a `stretch` model).
  const g = resizeGeometry(spec, width, height);
  const [sx, sy] = [(g.source.x1 - g.source.x0) / g.resizedWidth, (g.source.y1 - g.source.y0) / g.resizedHeight];
  const [x0, y0] = [Math.round(g.source.x0 + g.left * sx), Math.round(g.source.y0 + g.top * sy)];
  const [w, h] = [Math.max(1, Math.min(width - x0, Math.round(g.width * sx))), Math.max(1, Math.min(height - y0, Math.round(g.height * sy)))];
  const heat = resizeMap(cam.map, cam.width, cam.height, w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = Math.min(1, Math.max(0, heat[y * w + x]!));
      const colour = heatColour(v);
      const alpha = 0.15 + 0.45 * v; // some tint everywhere, so a cold region reads as cold, not as untouched
      const p = ((y0 + y) * width + x0 + x) * 4;
      for (let c = 0; c < 3; c++) rgba[p + c] = Math.round((1 - alpha) * rgba[p + c]! + alpha * colour[c]!);
    }
  }
  return new Uint8Array(await sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer());
}
