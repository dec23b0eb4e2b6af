/**
 * @module The preprocessing each source's training recipe used, as a manifest's spec (src/core/preprocess-spec.ts):
 * - keras: `flow_from_directory` / `load_img` resize the whole image to the input with PIL's NEAREST (its default
 *   `interpolation`), then ResNet50's `preprocess_input`, "caffe" (BGR, ImageNet means subtracted);
 * - torchvision: `Resize(256)` (the shorter side, PIL bilinear) + `CenterCrop(224)`, ImageNet mean/std;
 * - timm: `Resize(floor(size / crop_pct))` + `CenterCrop`, bicubic, crop_pct 0.95 (the resnet50.a1_in1k tag that
 *   plain `resnet50` has meant since 2021; timm's `_cfg`s list the rest);
 * - Hugging Face: the folder's preprocessor_config.json (ConvNext: the shorter side to int(size / crop_pct) then a
 *   centre crop, ViT: the whole image to size×size, Bit: shortest_edge then crop_size), PIL `resample` codes.
 * Loaders convert to RGB with PIL (`convert('RGB')`), which drops alpha: so do these specs.
 */
import { IMAGENET_MEAN, IMAGENET_STD, type PreprocessSpec, type ResizeFilter } from '../../src/core/preprocess-spec.js';
import { SourceError } from './graph.js';

export const RECIPES = ['keras', 'torchvision', 'timm'] as const;
export type Recipe = (typeof RECIPES)[number];

/** Choices a user can give on the command line over a source's recipe. */
export interface PreprocessOverrides {
  recipe?: Recipe;
  filter?: ResizeFilter;
  /** The crop's share of the resized shorter side (torchvision 0.875, timm 0.95); 1 = no crop. */
  cropPct?: number;
}

const CAFFE = { colorOrder: 'BGR' as const, mean: [103.939, 116.779, 123.68] as [number, number, number], std: [1, 1, 1] as [number, number, number] };
const IMAGENET = { colorOrder: 'RGB' as const, mean: IMAGENET_MEAN, std: IMAGENET_STD };

/** A centre crop of `size` from the shorter side resized to ⌊size / cropPct⌋ (timm's math.floor; torchvision's 256 for 224 at 0.875). */
function shorterSide(size: number, cropPct: number, filter: ResizeFilter, rounding: 'round-half-even' | 'floor'): Pick<PreprocessSpec, 'resize' | 'resizeShorter' | 'cropRounding' | 'filter'> {
  if (cropPct >= 1) return { resize: 'shorter-side', resizeShorter: size, cropRounding: rounding, filter };
  return { resize: 'shorter-side', resizeShorter: Math.floor(size / cropPct), cropRounding: rounding, filter };
}

export function recipeSpec(recipe: Recipe, size: number, o: PreprocessOverrides = {}): PreprocessSpec {
  const base = { width: size, height: size, alphaBackground: null, exifOrientation: true as const };
  if (recipe === 'keras') return { ...base, ...CAFFE, resize: 'stretch', filter: o.filter ?? 'nearest', ...(o.cropPct !== undefined && o.cropPct < 1 ? shorterSide(size, o.cropPct, o.filter ?? 'nearest', 'round-half-even') : {}) };
  const [cropPct, filter] = recipe === 'timm' ? [0.95, 'bicubic' as const] : [0.875, 'bilinear' as const];
  return { ...base, ...IMAGENET, ...shorterSide(size, o.cropPct ?? cropPct, o.filter ?? filter, 'round-half-even') };
}

/** PIL's resample codes (PIL.Image.Resampling). */
const PIL_RESAMPLE: Record<number, string> = { 0: 'nearest', 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming' };
const isPilFilter = (f: string | undefined): f is 'nearest' | 'bilinear' | 'bicubic' => f === 'nearest' || f === 'bilinear' || f === 'bicubic';

/** A Hugging Face preprocessor_config.json → the spec it computes for `size` (its own size when it has one). */
export function huggingFaceSpec(p: Record<string, unknown>, file: string): PreprocessSpec {
  const type = String(p.image_processor_type ?? p.feature_extractor_type ?? '');
  const resample = PIL_RESAMPLE[Number(p.resample ?? 3)];
  if (!isPilFilter(resample)) throw new SourceError(`${file}: resample ${String(p.resample)} (${resample ?? 'unknown'}); nearest, bilinear and bicubic are implemented (override with --resize-filter)`);
  const rescale = p.do_rescale === false ? 1 : Number(p.rescale_factor ?? 1 / 255);
  const normalise = p.do_normalize !== false;
  const mean = (normalise ? (p.image_mean as number[] | undefined) ?? [0.485, 0.456, 0.406] : [0, 0, 0]).map((m) => m / rescale) as [number, number, number];
  const std = (normalise ? (p.image_std as number[] | undefined) ?? [0.229, 0.224, 0.225] : [1, 1, 1]).map((s) => s / rescale) as [number, number, number];
  const size = p.size as number | { shortest_edge?: number; height?: number; width?: number } | undefined;
  const base = { colorOrder: 'RGB' as const, mean, std, alphaBackground: null, exifOrientation: true as const, filter: resample };
  const edge = typeof size === 'number' ? size : size?.shortest_edge;
  if (type.startsWith('ConvNext')) {
    if (!edge) throw new SourceError(`${file}: ConvNext processor without size.shortest_edge`);
    const cropPct = Number(p.crop_pct ?? 224 / 256);
    // convnext/image_processing_convnext.py: below 384 the shorter side goes to int(edge / crop_pct), then a centre crop.
    if (edge < 384) return { ...base, width: edge, height: edge, resize: 'shorter-side', resizeShorter: Math.trunc(edge / cropPct), cropRounding: 'floor' };
    return { ...base, width: edge, height: edge, resize: 'stretch' };
  }
  if (type.startsWith('ViT')) {
    const [h, w] = typeof size === 'number' ? [size, size] : [size?.height, size?.width];
    if (!h || h !== w) throw new SourceError(`${file}: ViT processor size ${JSON.stringify(size)}; a square size is served here`);
    return { ...base, width: w, height: h, resize: 'stretch' };
  }
  if (type.startsWith('Bit') || type.startsWith('CLIP')) {
    const crop = p.crop_size as number | { height?: number; width?: number } | undefined;
    const [h, w] = typeof crop === 'number' ? [crop, crop] : [crop?.height, crop?.width];
    if (!edge || !h || h !== w || p.do_center_crop === false) throw new SourceError(`${file}: ${type} with size ${JSON.stringify(size)} and crop ${JSON.stringify(crop)}; a shortest_edge and a square crop are served here`);
    return { ...base, width: w, height: h, resize: 'shorter-side', resizeShorter: edge, cropRounding: 'floor' };
  }
  throw new SourceError(`${file}: image processor "${type}" is not one this tool reads (ConvNext, ViT, Bit); give the preprocessing with --recipe`);
}

/** A spec with the user's overrides applied (a recipe replaces it; a filter or crop changes it). */
export function withOverrides(spec: PreprocessSpec, o: PreprocessOverrides): PreprocessSpec {
  if (o.recipe) return recipeSpec(o.recipe, spec.width, o);
  let out = { ...spec, ...(o.filter ? { filter: o.filter } : {}) };
  if (o.cropPct !== undefined) {
    out = o.cropPct >= 1 && out.resize !== 'stretch' ? { ...out, resize: 'shorter-side', resizeShorter: out.width, cropRounding: out.cropRounding ?? 'round-half-even' } : o.cropPct < 1 ? { ...out, resize: 'shorter-side', resizeShorter: Math.floor(out.width / o.cropPct), cropRounding: out.cropRounding ?? 'round-half-even' } : out;
  }
  return out;
}

/** A Keras Rescaling layer at the input (x · scale + offset) as the spec's mean and std on 0..255 RGB values. */
export function rescalingSpec(size: number, { scale, offset }: { scale: number; offset: number }, filter: ResizeFilter = 'nearest'): PreprocessSpec {
  const m = -offset / scale;
  const s = 1 / scale;
  return { width: size, height: size, resize: 'stretch', filter, colorOrder: 'RGB', mean: [m, m, m], std: [s, s, s], alphaBackground: null, exifOrientation: true };
}
