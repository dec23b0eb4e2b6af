/** @module Image types shared by the decoders, the preprocessing and both runtimes. */

/** Formats we decode; detected from magic bytes, never from headers or file names. */
export const ImageFormat = { jpeg: 'jpeg', png: 'png' } as const;
export type ImageFormat = (typeof ImageFormat)[keyof typeof ImageFormat];

/** EXIF orientation tag values (1 = upright). */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** What a header says before any pixel is decoded. */
export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

/**
 * A decoded image: 8-bit interleaved RGB (`channels` 3, what JPEG gives: a quarter less memory) or RGBA
 * (`channels` 4), row-major, as stored in the file. `orientation` is applied lazily by the preprocessing
 * (it maps output pixels back to stored ones), so no rotated copy is ever made.
 */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
  orientation: Orientation;
  /** Set only by a partial decode (`allowPartial`) of a file that was cut: what it did not hold. */
  missing?: MissingData;
}

/** What a cut file lacked, as a partial decode measured it. */
export interface MissingData {
  /** Share (0–1) of the image data not in the file: of the scan it stops in (JPEG), of the rows' bytes (PNG). */
  fraction: number;
  /** The same in words, for the caller's warning. */
  detail: string;
}
