/**
 * Test fixtures in the published layouts (used by the importer tests, never shipped): a Keras weights .h5 as
 * `save_weights` writes it (`layer_names`, per-layer `weight_names`, datasets at `<layer>/<layer>/kernel:0`) and
 * a torchvision ResNet50 ONNX export in both common forms.
 */
import h5wasm from 'h5wasm/node';
import { decodeModel, encodeModel, node, readFloats, tensor, valueInfo, type ModelProto, type NodeProto } from '../onnx/proto.js';
import type { tf } from '../tf/backend.js';

const KERAS_SHORT: Record<string, string[]> = { Conv2D: ['kernel', 'bias'], BatchNormalization: ['gamma', 'beta', 'moving_mean', 'moving_variance'], Dense: ['kernel', 'bias'] };

/** Writes `model`'s weights the way Keras' `save_weights(…h5)` lays them out (optionally without some layers). */
export async function writeKerasH5(path: string, model: tf.LayersModel, skip: string[] = []) {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  const layers = model.layers.filter((l) => !skip.includes(l.name));
  f.create_attribute('layer_names', layers.map((l) => l.name));
  f.create_attribute('backend', 'tensorflow');
  f.create_attribute('keras_version', '2.13.1');
  for (const layer of layers) {
    const group = f.create_group(layer.name);
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const short = KERAS_SHORT[layer.getClassName()]!;
    group.create_attribute('weight_names', short.map((s) => `${layer.name}/${s}:0`));
    const inner = group.create_group(layer.name);
    weights.forEach((w, i) => inner.create_dataset({ name: `${short[i]}:0`, data: w.dataSync() as Float32Array, shape: w.shape }));
  }
  f.close();
}

/** Keras layer name → torchvision module path (the inverse of the importer's mapping, written independently). */
function torchModuleOf(keras: string): string {
  if (keras === 'conv1_conv') return 'conv1';
  if (keras === 'predictions') return 'fc';
  const m = /^conv(\d)_block(\d+)_(\d)_conv$/.exec(keras)!;
  const [stage, block, k] = [Number(m[1]) - 1, Number(m[2]) - 1, Number(m[3])];
  return k === 0 ? `layer${stage}.${block}.downsample.0` : `layer${stage}.${block}.conv${k}`;
}
const bnModuleOf = (convModule: string) => (convModule === 'conv1' ? 'bn1' : convModule.replace(/conv(\d)$/, 'bn$1').replace(/downsample\.0$/, 'downsample.1'));
/** "layer1.0.downsample.0" → "/layer1/layer1.0/downsample/downsample.0/Conv" (torch.onnx's scope names). */
const scopedName = (module: string, op: string) => {
  const parts = module.split('.');
  return `/${parts.map((p, i) => (/^\d+$/.test(p) ? `${parts[i - 1]}.${p}` : p)).join('/')}/${op}`;
};

/**
 * Our export (Keras names, BN folded, softmax out) rewritten as torch.onnx writes a torchvision ResNet50:
 * `folded`: Conv with bias, anonymous initializers, scoped node names; else Conv without bias + BatchNormalization.
 * Gemm `fc` with transB = 1, logits out.
 */
export function torchvisionExport(ours: ModelProto, folded: boolean, classes: number): ModelProto {
  const m = decodeModel(encodeModel(ours));
  const g = m.graph!;
  const inits = new Map(g.initializer!.map((t) => [t.name!, t]));
  const out: NodeProto[] = [];
  const initializers = [] as typeof g.initializer;
  let anon = 100;
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (const n of g.node!) {
    if (n.opType === 'Softmax') continue;
    if (n.opType === 'Conv') {
      const module = torchModuleOf(n.name!);
      const w = inits.get(n.input![1]!)!;
      const b = readFloats(inits.get(n.input![2]!)!);
      const dims = w.dims!.map(Number);
      if (folded) {
        const [wn, bn] = [`onnx::Conv_${anon++}`, `onnx::Conv_${anon++}`];
        initializers!.push(tensor(wn, dims, readFloats(w)), tensor(bn, [dims[0]!], b));
        out.push(node('Conv', [n.input![0]!, wn, bn], n.output!, scopedName(module, 'Conv'), attrsOf(n)));
      } else {
        const bnModule = bnModuleOf(module);
        initializers!.push(tensor(`${module}.weight`, dims, readFloats(w)));
        // BN chosen so that BN(conv_W(x)) = conv_W(x) + b: scale = √(var + ε), β = b + mean.
        const c = dims[0]!;
        const variance = Float32Array.from({ length: c }, () => 0.5 + 1.5 * rand());
        const mean = Float32Array.from({ length: c }, () => rand() - 0.5);
        const scale = variance.map((v) => Math.sqrt(v + 1e-5));
        const beta = b.map((v, i) => v + mean[i]!);
        initializers!.push(tensor(`${bnModule}.weight`, [c], scale), tensor(`${bnModule}.bias`, [c], beta), tensor(`${bnModule}.running_mean`, [c], mean), tensor(`${bnModule}.running_var`, [c], variance));
        const convOut = `${n.output![0]}_conv`;
        out.push(node('Conv', [n.input![0]!, `${module}.weight`], [convOut], scopedName(module, 'Conv'), attrsOf(n)));
        out.push(node('BatchNormalization', [convOut, `${bnModule}.weight`, `${bnModule}.bias`, `${bnModule}.running_mean`, `${bnModule}.running_var`], n.output!, scopedName(bnModule, 'BatchNormalization'), { epsilon: { float: 1e-5 } }));
      }
      continue;
    }
    if (n.opType === 'Gemm') {
      const w = inits.get(n.input![1]!)!;
      const [inF, outF] = w.dims!.map(Number) as [number, number];
      const v = readFloats(w);
      const t = new Float32Array(v.length);
      for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) t[o * inF + i] = v[i * outF + o]!;
      initializers!.push(tensor('fc.weight', [outF, inF], t), tensor('fc.bias', [outF], readFloats(inits.get(n.input![2]!)!)));
      out.push(node('Gemm', [n.input![0]!, 'fc.weight', 'fc.bias'], ['logits'], '/fc/Gemm', { transB: 1 }));
      continue;
    }
    out.push(n);
  }
  g.node = out;
  g.initializer = [...initializers!, ...g.initializer!.filter((t) => !inits.has(t.name!) || t.dataType !== 1)];
  g.output = [valueInfo('logits', ['batch', classes])];
  return m;
}

function attrsOf(n: NodeProto) {
  const a: Record<string, number[] | number> = {};
  for (const attr of n.attribute ?? []) a[attr.name!] = attr.ints?.length ? attr.ints.map(Number) : Number(attr.i ?? 0);
  return a;
}

