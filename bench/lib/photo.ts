/** @module Photo-like JPEG test images (gradient + turbulence + a shape), rendered by librsvg through sharp. */
import sharp from 'sharp';

export async function photoJpeg(width: number, height: number, quality = 90): Promise<Uint8Array> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g"><stop offset="0" stop-color="#3a6"/><stop offset="1" stop-color="#c84"/></linearGradient><filter id="n"><feTurbulence type="fractalNoise" baseFrequency="0.05" numOctaves="4"/><feColorMatrix values="0 0 0 0 0.4  0 0 0 0 0.5  0 0 0 0 0.3  0 0 0 0.6 0"/></filter></defs><rect width="100%" height="100%" fill="url(#g)"/><rect width="100%" height="100%" filter="url(#n)"/><circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 4}" fill="#2255cc"/></svg>`;
  return new Uint8Array(await sharp(Buffer.from(svg), { limitInputPixels: false }).jpeg({ quality }).toBuffer());
}
