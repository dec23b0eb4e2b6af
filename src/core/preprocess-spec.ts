/** @module The preprocessing contract a model was trained with; stored in its manifest. */
import { z } from 'zod';

/**
 * How a decoded RGBA image becomes the model's NCHW float32 input.
 * `mean`/`std` apply to 0..255 channel values, listed in `colorOrder` order, so Keras "caffe" mode is
 * BGR, mean [103.939, 116.779, 123.68], std [1, 1, 1] and torchvision is RGB, mean 255·[0.485, …], std 255·[0.229, …].
 */
export const PreprocessSpecSchema = z
  .object({
    /**
     * `stretch`: the whole image to width×height (Keras `target_size`); `center-crop`: the centred region of the
     * target aspect ratio, `cropFraction` of the shorter side, resized to width×height; `shorter-side`: the shorter
     * side resized to `resizeShorter` (the longer in proportion, truncated), then the centre width×height kept
     * (torchvision's `Resize(s)` + `CenterCrop`, timm's and Hugging Face's eval transforms).
     */
    resize: z.enum(['stretch', 'center-crop', 'shorter-side']),
    /**
     * `area`: box average when shrinking, bilinear (half-pixel centres) when enlarging, in float. `nearest`,
     * `bilinear`, `bicubic`: Pillow's `Image.resize` with that filter, bit for bit (antialiased, 8-bit between
     * its two passes): what the source's own training pipeline computed.
     */
    filter: z.enum(['area', 'nearest', 'bilinear', 'bicubic']),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    cropFraction: z.number().gt(0).lte(1).optional(),
    resizeShorter: z.number().int().positive().optional(),
    /** Where a centre crop starts when its margin is odd: torchvision's `round` (half to even) or Hugging Face's floor. */
    cropRounding: z.enum(['round-half-even', 'floor']).optional(),
    colorOrder: z.enum(['RGB', 'BGR']),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
    /**
     * RGB the alpha channel is composited onto (transparent pixels become this colour), or null: alpha is
     * dropped and the stored colours kept, as PIL's `convert('RGB')` does in torchvision's, Keras' and Hugging
     * Face's loaders.
     */
    alphaBackground: z.tuple([z.number().int(), z.number().int(), z.number().int()]).nullable(),
    /** Whether EXIF orientation is applied before resizing (it is, in both halves). */
    exifOrientation: z.literal(true),
  })
  .superRefine((s, ctx) => {
    if (s.resize === 'shorter-side' && !(s.resizeShorter !== undefined && s.resizeShorter >= Math.max(s.width, s.height))) {
      ctx.addIssue({ code: 'custom', path: ['resizeShorter'], message: `shorter-side needs resizeShorter ≥ the crop (${Math.max(s.width, s.height)}), got ${s.resizeShorter}` });
    }
  });
export type PreprocessSpec = z.infer<typeof PreprocessSpecSchema>;
export type ResizeFilter = PreprocessSpec['filter'];

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

/** ImageNet's mean and std (torchvision, timm, Hugging Face) on 0..255 values. */
export const IMAGENET_MEAN: [number, number, number] = [123.675, 116.28, 103.53];
export const IMAGENET_STD: [number, number, number] = [58.395, 57.12, 57.375];
