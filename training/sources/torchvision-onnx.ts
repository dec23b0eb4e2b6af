/**
 * @module A torchvision ResNet50 exported to ONNX → Keras layer weights. Two layouts are common:
 *   - BN kept: Conv (no bias, initializer `layer1.0.conv1.weight`) → BatchNormalization (`layer1.0.bn1.*`);
 *   - BN folded by the exporter: Conv with a bias and anonymous initializers (`onnx::Conv_497`), the module
 *     path only in the node name (`/layer1/layer1.0/conv1/Conv`).
 * torchvision's `layer{L}.{B}.conv{k}` is Keras' `conv{L+1}_block{B+1}_{k}_conv`, `downsample.0/1` is `_0_conv/_0_bn`.
 * Folded convolutions load as conv kernel + bias with an identity BN. Our own exports (node = Keras layer name,
 * BN folded, `fc1`/`predictions` Gemms) load the same way, so `train --weights runs/x/model-fp32.onnx` starts from
 * a model trained before; its BNs then start as identities, exact while frozen. Note: torchvision's ResNet50 is "v1.5"
 * (stride on the 3×3 conv); ours is Keras' v1 (stride on the first 1×1), so the weights load exactly but the
 * network is not bit-identical to the torch model.
 */
import { readFile } from 'node:fs/promises';
import { decodeModel, readFloats, type NodeProto, type TensorProto } from '../onnx/proto.js';
import type { LayerWeights, WeightArray } from './layer-weights.js';

/** Keras' ResNet BatchNormalization epsilon: an identity BN has variance 1 − ε. */
const KERAS_BN_EPSILON = 1.001e-5;

/** "/layer1/layer1.0/downsample/downsample.0/Conv" → "layer1.0.downsample.0". */
export function modulePathOfNode(name: string): string | null {
  const parts = name.split('/').filter(Boolean).slice(0, -1);
  if (parts.length === 0) return null;
  const path: string[] = [];
  for (const part of parts) {
    const previous = path[path.length - 1];
    if (previous !== undefined && part.startsWith(`${previous}.`)) path[path.length - 1] = part;
    else path.push(part);
  }
  return path.join('.');
}

/** torchvision module path → Keras layer name (conv or BN), or null for modules ResNet50's trunk lacks. */
export function kerasNameOf(module: string): string | null {
  if (module === 'conv1') return 'conv1_conv';
  if (module === 'bn1') return 'conv1_bn';
  if (module === 'fc') return 'predictions';
  const m = /^layer([1-4])\.(\d+)\.(conv([123])|bn([123])|downsample\.([01]))$/.exec(module);
  if (!m) return null;
  const prefix = `conv${Number(m[1]) + 1}_block${Number(m[2]) + 1}`;
  if (m[4]) return `${prefix}_${m[4]}_conv`;
  if (m[5]) return `${prefix}_${m[5]}_bn`;
  return m[6] === '0' ? `${prefix}_0_conv` : `${prefix}_0_bn`;
}

/** ONNX OIHW → Keras HWIO. */
function toHWIO(w: Float32Array, [o, i, h, k]: number[]): WeightArray {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < h; y++) for (let x = 0; x < k; x++) out[((y * k + x) * i + b) * o + a] = w[((a * i + b) * h + y) * k + x]!;
  return { shape: [h, k, i, o], data: out };
}

const dims = (t: TensorProto) => t.dims!.map(Number);

/** A node named as one of our exports names it: the Keras layer itself. */
const OUR_LAYER = /^(conv1_conv|conv\d_block\d+_\d_conv|fc1|predictions)$/;

export async function readTorchvisionOnnx(path: string): Promise<LayerWeights> {
  const m = decodeModel(new Uint8Array(await readFile(path)));
  const g = m.graph!;
  const inits = new Map(g.initializer!.map((t) => [t.name!, t]));
  const weights: LayerWeights = new Map();
  const convByOutput = new Map<string, string>();
  const moduleOf = (n: NodeProto, initializer: string | undefined) => {
    const fromInit = initializer && /^(.*)\.(weight|bias|running_mean|running_var)$/.exec(initializer)?.[1];
    return fromInit || modulePathOfNode(n.name ?? '');
  };
  // Our own exports (training/onnx/export.ts) name each node by its Keras layer, BN folded into the Conv.
  const kerasOf = (n: NodeProto, initializer: string | undefined) => {
    if (OUR_LAYER.test(n.name ?? '')) return n.name!;
    const module = moduleOf(n, initializer);
    return module ? kerasNameOf(module) : null;
  };
  for (const n of g.node!) {
    if (n.opType === 'Conv') {
      const w = inits.get(n.input![1]!);
      const keras = kerasOf(n, n.input![1]);
      if (!w || !keras) continue;
      const kernel = toHWIO(readFloats(w), dims(w));
      const cout = dims(w)[0]!;
      const b = n.input![2] ? inits.get(n.input![2]) : undefined;
      weights.set(keras, [kernel, { shape: [cout], data: b ? readFloats(b) : new Float32Array(cout) }]);
      convByOutput.set(n.output![0]!, keras);
      if (b) {
        // Folded: the BN became this bias; load an identity BN so the Keras network computes the same.
        const bn = keras.replace(/_conv$/, '_bn');
        weights.set(bn, [
          { shape: [cout], data: new Float32Array(cout).fill(1) },
          { shape: [cout], data: new Float32Array(cout) },
          { shape: [cout], data: new Float32Array(cout) },
          { shape: [cout], data: new Float32Array(cout).fill(1 - KERAS_BN_EPSILON) },
        ]);
      }
    } else if (n.opType === 'Gemm') {
      // The classifier `fc`: torch stores [out, in] with transB = 1; Keras' Dense kernel is [in, out].
      const w = inits.get(n.input![1]!);
      const b = n.input![2] ? inits.get(n.input![2]) : undefined;
      const keras = kerasOf(n, n.input![1]);
      if (!w || (keras !== 'predictions' && keras !== 'fc1')) continue;
      const [rows, cols] = dims(w) as [number, number];
      const transB = n.attribute?.find((a) => a.name === 'transB')?.i;
      const v = readFloats(w);
      const [inF, outF] = Number(transB ?? 0) === 1 ? [cols, rows] : [rows, cols];
      const kernel = new Float32Array(v.length);
      for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) kernel[i * outF + o] = Number(transB ?? 0) === 1 ? v[o * inF + i]! : v[i * outF + o]!;
      weights.set(keras, [{ shape: [inF, outF], data: kernel }, { shape: [outF], data: b ? readFloats(b) : new Float32Array(outF) }]);
    } else if (n.opType === 'BatchNormalization') {
      const [, scale, bias, mean, variance] = n.input!.map((i) => inits.get(i));
      const conv = convByOutput.get(n.input![0]!);
      const module = moduleOf(n, n.input![1]);
      const keras = (module && kerasNameOf(module)) ?? conv?.replace(/_conv$/, '_bn');
      if (!keras || !scale || !bias || !mean || !variance) continue;
      const epsilon = n.attribute?.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
      // Keras divides by sqrt(var + 1.001e-5), torch by sqrt(var + eps): shift the variance to keep the output.
      const v = readFloats(variance).map((x) => x + epsilon - KERAS_BN_EPSILON);
      weights.set(keras, [scale, bias, mean].map((t) => ({ shape: dims(t), data: readFloats(t) })).concat([{ shape: dims(variance), data: v }]));
    }
  }
  if (!weights.has('conv1_conv')) throw new Error(`${path} does not look like a torchvision ResNet50 export (no conv1)`);
  return weights;
}
