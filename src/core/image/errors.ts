/** @module Typed, stable errors for everything that can be wrong with an image. */
import { CodedError } from '../coded-error.js';

/** Stable, machine-readable reasons; the HTTP layer maps each to a status. */
export const ImageErrorCode = {
  /** Not a JPEG or PNG by its magic bytes. */
  unsupportedFormat: 'unsupported_format',
  /** A JPEG/PNG variant we do not decode (12-bit, arithmetic, lossless JPEG). */
  unsupportedVariant: 'unsupported_image_variant',
  /** Structurally broken or undecodable. */
  corrupt: 'corrupt_image',
  /** The data ends before the last JPEG block or PNG row (a cut upload): never answered from part of an image. */
  truncated: 'truncated_image',
  /** Declared pixel count over the memory budget. */
  tooLarge: 'image_too_large',
} as const;
export type ImageErrorCode = (typeof ImageErrorCode)[keyof typeof ImageErrorCode];

export class ImageError extends CodedError<ImageErrorCode> {}

export const isImageError = (e: unknown): e is ImageError => e instanceof ImageError;
