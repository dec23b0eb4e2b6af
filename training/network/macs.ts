/**
 * @module Multiply-accumulates of one inference, counted layer by layer from the description (what the pruning
 * literature calls "FLOPs"): convolutions and dense layers; pooling, BN (folded at export), ReLU and adds are
 * left out, as ../shared/reference/PRUNING.md's counts leave them out (torchvision ResNet-50 at 224: 4.09 G).
 */
import type { ResNetDescription } from './description.js';

/** Output side of a convolution or pooling window: ⌊(in + 2·pad − kernel) / stride⌋ + 1. */
const outSide = (side: number, kernel: number, stride: number, pad: number) => Math.floor((side + 2 * pad - kernel) / stride) + 1;

/** One block's layers as they run: [output side, input channels, output channels, kernel] per convolution. */
interface ConvRun {
  side: number;
  cin: number;
  cout: number;
  kernel: number;
}

/** Every convolution of the trunk with its output side (v1 strides the first 1×1, v1.5 the 3×3). */
export function convolutions(d: ResNetDescription): ConvRun[] {
  const runs: ConvRun[] = [];
  let side = outSide(d.inputSize, 7, 2, 3);
  runs.push({ side, cin: 3, cout: d.stemWidth, kernel: 7 });
  side = outSide(side, 3, 2, 1);
  let channels = d.stemWidth;
  for (const stage of d.stages) {
    stage.blocks.forEach((block, b) => {
      const stride = b === 0 ? stage.stride : 1;
      const strided = outSide(side, 1, stride, 0);
      const first = d.variant === 'v1' ? strided : side;
      if (b === 0) runs.push({ side: strided, cin: channels, cout: stage.width, kernel: 1 });
      runs.push({ side: first, cin: channels, cout: block.reduce, kernel: 1 });
      runs.push({ side: strided, cin: block.reduce, cout: block.spatial, kernel: 3 });
      runs.push({ side: strided, cin: block.spatial, cout: stage.width, kernel: 1 });
      side = strided;
      channels = stage.width;
    });
  }
  return runs;
}

/** Multiply-accumulates of one image through the network (trunk and head). */
export function multiplyAccumulates(d: ResNetDescription): number {
  const trunk = convolutions(d).reduce((n, c) => n + c.side * c.side * c.cin * c.cout * c.kernel * c.kernel, 0);
  const last = convolutions(d).at(-1)!;
  let features = d.pooling === 'flatten' ? last.side * last.side * last.cout : last.cout;
  let head = 0;
  for (const layer of d.head) {
    if (layer.kind !== 'dense') continue;
    head += features * layer.units;
    features = layer.units;
  }
  return trunk + head;
}

/** GMAC, to three decimals (for manifests and tables). */
export const gmacOf = (d: ResNetDescription) => Math.round(multiplyAccumulates(d) / 1e6) / 1e3;
