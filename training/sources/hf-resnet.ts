/**
 * @module A Hugging Face `ResNetForImageClassification` folder (`config.json`, `model.safetensors`,
 * `preprocessor_config.json`), e.g. microsoft/resnet-50. transformers' models/resnet: `ResNetConfig` (depths,
 * hidden_sizes, embedding_size, layer_type, downsample_in_first_stage, downsample_in_bottleneck) fixes the graph;
 * parameters `resnet.embedder.embedder.{convolution,normalization}`, `resnet.encoder.stages.S.layers.L.layer.{0,1,2}`
 * and `.shortcut` (where a block changes width or stride), `classifier.1` (after Flatten). Every convolution is
 * bias-free with BatchNorm2d's ε 1e-5; the stride sits on the 3×3 (`layer.1`) unless `downsample_in_bottleneck`.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlockWidths, ResNetDescription, StageDescription } from '../network/description.js';
import { stageName } from '../network/description.js';
import { SourceError } from './graph.js';
import type { LayerWeights, WeightArray } from './layer-weights.js';
import { toHWIO } from './onnx-graph.js';
import { readSafetensors } from './safetensors.js';

export interface HfConfig {
  architectures?: string[];
  model_type?: string;
  layer_type?: string;
  hidden_act?: string;
  depths?: number[];
  hidden_sizes?: number[];
  embedding_size?: number;
  downsample_in_first_stage?: boolean;
  downsample_in_bottleneck?: boolean;
  id2label?: Record<string, string>;
}

export interface HfResNet {
  description: Omit<ResNetDescription, 'inputSize'>;
  weights: LayerWeights;
  /** id2label in index order, or null when the config has none. */
  labels: string[] | null;
  config: HfConfig;
  /** preprocessor_config.json, or null when the folder has none. */
  preprocessor: Record<string, unknown> | null;
}

const BN_EPSILON = 1e-5;

async function readJson(path: string, what: string): Promise<Record<string, unknown> | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new SourceError(`${path}: ${what} is not JSON`);
  }
}

export async function readHfResNet(dir: string): Promise<HfResNet> {
  const config = (await readJson(join(dir, 'config.json'), 'config.json')) as HfConfig | null;
  if (!config) throw new SourceError(`${dir}: no config.json; a Hugging Face model folder has config.json and model.safetensors`);
  if (config.model_type !== 'resnet') throw new SourceError(`${dir}/config.json: model_type "${config.model_type}"; this reads ResNetForImageClassification (model_type "resnet")`);
  if ((config.layer_type ?? 'bottleneck') !== 'bottleneck') throw new SourceError(`${dir}/config.json: layer_type "${config.layer_type}"; basic blocks (ResNet18/34) are not built here, bottleneck ones (50, 101, 152) are`);
  if ((config.hidden_act ?? 'relu') !== 'relu') throw new SourceError(`${dir}/config.json: hidden_act "${config.hidden_act}"; a ResNet uses relu`);
  const weightsPath = join(dir, 'model.safetensors');
  if (!(await stat(weightsPath).catch(() => null))) {
    const others = (await stat(join(dir, 'model.safetensors.index.json')).catch(() => null)) ? 'sharded safetensors (model.safetensors.index.json)' : (await stat(join(dir, 'pytorch_model.bin')).catch(() => null)) ? 'pytorch_model.bin (a pickle)' : 'no weights';
    throw new SourceError(`${dir}: no model.safetensors (found ${others}); save the model with save_pretrained(…, safe_serialization=True) into one file`);
  }
  const tensors = readSafetensors(new Uint8Array(await readFile(weightsPath)), weightsPath);
  const prefix = [...tensors.keys()].some((k) => k.startsWith('resnet.')) ? 'resnet.' : '';
  const get = (name: string): WeightArray => {
    const t = tensors.get(`${prefix}${name}`) ?? (name.startsWith('classifier') ? tensors.get(name) : undefined);
    if (!t) throw new SourceError(`${weightsPath}: no tensor "${prefix}${name}"`);
    return t;
  };
  const conv = (module: string) => {
    const w = get(`${module}.convolution.weight`);
    if (w.shape.length !== 4) throw new SourceError(`${weightsPath}: ${module}.convolution.weight has shape ${JSON.stringify(w.shape)}`);
    return toHWIO(w.data, w.shape);
  };
  const bn = (module: string): WeightArray[] => ['weight', 'bias', 'running_mean', 'running_var'].map((p) => get(`${module}.normalization.${p}`));

  const weights: LayerWeights = new Map();
  weights.set('conv1_conv', [conv('embedder.embedder')]);
  weights.set('conv1_bn', bn('embedder.embedder'));
  const depths = config.depths ?? [];
  const stages: StageDescription[] = [];
  for (let s = 0; ; s++) {
    const layers = new Set([...tensors.keys()].map((k) => new RegExp(`^${prefix.replace('.', '\\.')}encoder\\.stages\\.${s}\\.layers\\.(\\d+)\\.`).exec(k)?.[1]).filter((v): v is string => v !== undefined).map(Number));
    if (layers.size === 0) break;
    if (depths[s] !== undefined && depths[s] !== layers.size) throw new SourceError(`${dir}: config.json says stage ${s} has ${depths[s]} blocks (depths), model.safetensors has ${layers.size}`);
    const blocks: BlockWidths[] = [];
    let width = 0;
    for (let l = 0; l < layers.size; l++) {
      const module = `encoder.stages.${s}.layers.${l}`;
      const name = `${stageName(s)}_block${l + 1}`;
      const kernels = [0, 1, 2].map((k) => conv(`${module}.layer.${k}`));
      kernels.forEach((kernel, k) => {
        weights.set(`${name}_${k + 1}_conv`, [kernel]);
        weights.set(`${name}_${k + 1}_bn`, bn(`${module}.layer.${k}`));
      });
      const hasShortcut = tensors.has(`${prefix}${module}.shortcut.convolution.weight`);
      if (l === 0 && !hasShortcut) throw new SourceError(`${weightsPath}: stage ${s}'s first block has no shortcut projection`);
      if (l > 0 && hasShortcut) throw new SourceError(`${weightsPath}: ${module} projects its shortcut; only a stage's first block does in a ResNet`);
      if (hasShortcut) {
        weights.set(`${name}_0_conv`, [conv(`${module}.shortcut`)]);
        weights.set(`${name}_0_bn`, bn(`${module}.shortcut`));
      }
      width = kernels[2]!.shape[3]!;
      blocks.push({ reduce: kernels[0]!.shape[3]!, spatial: kernels[1]!.shape[3]! });
    }
    const stride = s === 0 ? (config.downsample_in_first_stage ? 2 : 1) : 2;
    stages.push({ width, stride, blocks });
  }
  if (stages.length === 0) throw new SourceError(`${weightsPath}: no encoder.stages tensors: not a ResNet's weights`);
  if (depths.length > 0 && depths.length !== stages.length) throw new SourceError(`${dir}: config.json lists ${depths.length} stages (depths), model.safetensors has ${stages.length}`);
  const classifier = tensors.get('classifier.1.weight') ?? tensors.get(`${prefix}classifier.1.weight`);
  if (!classifier) throw new SourceError(`${weightsPath}: no classifier.1.weight: a ResNetModel without its classification head (import needs ResNetForImageClassification)`);
  const [classes, features] = classifier.shape as [number, number];
  const kernel = new Float32Array(classifier.data.length);
  for (let o = 0; o < classes; o++) for (let i = 0; i < features; i++) kernel[i * classes + o] = classifier.data[o * features + i]!;
  const bias = tensors.get('classifier.1.bias') ?? tensors.get(`${prefix}classifier.1.bias`);
  weights.set('predictions', [{ shape: [features, classes], data: kernel }, { shape: [classes], data: bias?.data ?? new Float32Array(classes) }]);

  let labels: string[] | null = null;
  if (config.id2label) {
    labels = Array.from({ length: classes }, (_, i) => config.id2label![String(i)] ?? '');
    if (labels.some((l) => !l)) throw new SourceError(`${dir}/config.json: id2label has ${Object.keys(config.id2label).length} entries for a classifier of ${classes} outputs`);
  }
  return {
    description: {
      variant: config.downsample_in_bottleneck ? 'v1' : 'v1.5',
      stemWidth: weights.get('conv1_conv')![0]!.shape[3]!,
      stages,
      convBias: false,
      bnEpsilon: BN_EPSILON,
      pooling: 'avg',
      head: [{ kind: 'dense', units: classes, activation: 'linear' }],
    },
    weights,
    labels,
    config,
    preprocessor: await readJson(join(dir, 'preprocessor_config.json'), 'preprocessor_config.json'),
  };
}
