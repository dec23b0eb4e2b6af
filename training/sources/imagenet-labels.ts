/**
 * @module ImageNet's 1,000 class names as Workers AI's `@cf/microsoft/resnet-50` words them: the first name of
 * each class's WordNet synonyms, upper-cased ("Persian cat" → "PERSIAN CAT", "Pekinese, Pekingese, Peke" →
 * "PEKINESE"; Cloudflare's model page shows exactly these in its example answer). The synonym lists, in
 * class-index order, come from TensorFlow.js' MobileNet package (`IMAGENET_CLASSES`), the list Keras'
 * `decode_predictions` and torchvision index the same way.
 */
import { IMAGENET_CLASSES } from '@tensorflow-models/mobilenet/dist/imagenet_classes.js';

export const IMAGENET_CLASS_COUNT = 1000;

/** The label of class `i` in the hosted model's style. */
export const hostedStyleLabel = (synonyms: string) => synonyms.split(',')[0]!.trim().toUpperCase();

export function imagenetLabels(): string[] {
  const classes = IMAGENET_CLASSES as Record<number, string>;
  const labels = Array.from({ length: IMAGENET_CLASS_COUNT }, (_, i) => {
    const synonyms = classes[i];
    if (synonyms === undefined) throw new Error(`ImageNet class ${i} is missing from the class list`);
    return hostedStyleLabel(synonyms);
  });
  return labels;
}
