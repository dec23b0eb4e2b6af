/** @module The preprocessing contract a model was trained with; stored in its manifest. */
import { z } from 'zod';

/**
 * How a decoded RGBA image becomes the model's NCHW float32 input.
 * `mean`/`std` apply to 0..255 channel values, listed in `colorOrder` order, so Keras "caffe" mode is
 * BGR, mean [103.939, 116.779, 123.68], std [1, 1, 1] and torchvision is RGB, mean 255·[0.485, …], std 255·[0.229, …].
 */
export const PreprocessSpecSchema = z.object({
  /** `stretch`: the whole image to width×height (Keras `target_size`); `center-crop`: the centred region of the target aspect ratio, `cropFraction` of the shorter side. */
  resize: z.enum(['stretch', 'center-crop']),
  /** `area`: box average when shrinking, bilinear (half-pixel centres) when enlarging. */
  filter: z.literal('area'),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  cropFraction: z.number().gt(0).lte(1).optional(),
  colorOrder: z.enum(['RGB', 'BGR']),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  /** RGB the alpha channel is composited onto (transparent pixels become this colour). */
  alphaBackground: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  /** Whether EXIF orientation is applied before resizing (it is, in both halves). */
  exifOrientation: z.literal(true),
});
export type PreprocessSpec = z.infer<typeof PreprocessSpecSchema>;

/** Keras ResNet50 `preprocess_input` ("caffe" mode) at the given size: the reference recipe's transform. */
export function caffePreprocess(width: number, height: number): PreprocessSpec {
  return {
    resize: 'stretch',
    filter: 'area',
    width,
    height,
    colorOrder: 'BGR',
    mean: [103.939, 116.779, 123.68],
    std: [1, 1, 1],
    alphaBackground: [255, 255, 255],
    exifOrientation: true,
  };
}

/** torchvision's ImageNet normalisation (RGB, mean/std on 0..255), resize-then-crop (a torch export's transform). */
export function torchPreprocess(size: number): PreprocessSpec {
  return { ...caffePreprocess(size, size), resize: 'center-crop', cropFraction: 0.875, colorOrder: 'RGB', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] };
}
