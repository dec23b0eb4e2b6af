/**
 * @module Any trained ResNet classifier file → the one network description, its weights under our layer names,
 * its labels and its recipe's preprocessing. The format is found from the file itself: HDF5's signature (Keras
 * `.h5`: a whole model with `model_config`, or keras-applications' weights), a zip (Keras 3 `.keras`), a folder
 * (Hugging Face), else ONNX. Readers only map names and layouts; recognize.ts reads every graph the same way.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { decodeModel, type ModelProto } from '../onnx/proto.js';
import { depthOf, STAGE_BLOCKS, standardResNet, type ResNetDepth, type ResNetDescription } from '../network/description.js';
import { SourceError } from './graph.js';
import { readHfResNet } from './hf-resnet.js';
import { h5WeightsOf, readKerasH5File, type KerasH5 } from './keras-h5.js';
import { kerasGraph, type KerasLayerConfig, type KerasWeightsOf } from './keras-model.js';
import { readKerasV3 } from './keras-v3.js';
import type { LayerWeights, WeightArray } from './layer-weights.js';
import { readOnnxGraph } from './onnx-graph.js';
import { huggingFaceSpec, recipeSpec, rescalingSpec } from './preprocessing.js';
import { recognizeResNet, type Recognized } from './recognize.js';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';

export type SourceKind = 'keras-h5' | 'keras-v3' | 'keras-weights' | 'onnx' | 'huggingface';

export interface SourceNetwork {
  kind: SourceKind;
  path: string;
  /** What the file is, in words ("tf.keras 2.13.1 whole-model .h5, Functional"). */
  detail: string;
  description: ResNetDescription;
  weights: LayerWeights;
  outputKind: 'probabilities' | 'logits';
  /** Labels the file carries (Hugging Face id2label), else null. */
  labels: string[] | null;
  /** The source recipe's preprocessing, and where that came from. */
  preprocess: PreprocessSpec;
  preprocessFrom: string;
  /** An ONNX source's own graph (served as it is) with its tensor names. */
  onnx?: { model: ModelProto; inputName: string; outputName: string };
  /** A Keras source's own config and every layer's weights by role (for the independent rebuild). */
  keras?: { config: KerasLayerConfig; layerWeights: Map<string, Map<string, WeightArray>> };
}

export interface ReadOptions {
  /** The square input size to build for, where the file does not fix one (default 224). */
  inputSize?: number;
  /** A depth the user expects: an error when the file's is another. */
  depth?: ResNetDepth;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];

async function firstBytes(path: string, n: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(n);
    const { bytesRead } = await handle.read(buffer, 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
const startsWith = (bytes: Uint8Array, signature: number[]) => signature.every((b, i) => bytes[i] === b);

export async function readSource(path: string, o: ReadOptions = {}): Promise<SourceNetwork> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new SourceError(`${path}: no such file or folder`);
  const source = info.isDirectory() ? await fromHuggingFace(path, o) : await fromFile(path, o);
  const depth = depthOf(source.description);
  if (o.depth !== undefined && o.depth !== depth) throw new SourceError(`${path}: --depth ${o.depth}, but the file holds a ResNet${depth}`);
  return source;
}

async function fromFile(path: string, o: ReadOptions): Promise<SourceNetwork> {
  const head = await firstBytes(path, 8);
  if (startsWith(head, HDF5_SIGNATURE)) return fromKerasH5(path, o);
  if (startsWith(head, ZIP_SIGNATURE)) return fromKerasV3(path, o);
  let model: ModelProto;
  try {
    model = decodeModel(new Uint8Array(await readFile(path)));
  } catch (e) {
    throw new SourceError(`${path}: not a Keras .h5 or .keras, nor an ONNX file this tool can parse (${e instanceof Error ? e.message : String(e)}): a file cut short?`);
  }
  if (!model.graph?.node?.length) throw new SourceError(`${path}: not a Keras .h5 or .keras file, and no ONNX graph in it`);
  const onnx = readOnnxGraph(model, path);
  const recognized = recognizeResNet(onnx.graph);
  if (o.inputSize && onnx.inputSize && o.inputSize !== onnx.inputSize) throw new SourceError(`${path}: its input is ${onnx.inputSize}×${onnx.inputSize}; --input-size ${o.inputSize} would need another export`);
  const inputSize = onnx.inputSize ?? o.inputSize ?? 224;
  return {
    kind: 'onnx',
    path,
    detail: `ONNX (opset ${onnx.opset}, ${model.producerName || 'unknown producer'} ${model.producerVersion ?? ''})`.replace(/ \)/, ')'),
    description: { ...recognized.description, inputSize },
    weights: recognized.weights,
    outputKind: recognized.outputKind,
    labels: null,
    preprocess: recipeSpec('torchvision', inputSize),
    preprocessFrom: "torchvision's ImageNet recipe (Resize + CenterCrop 87.5 %, bilinear); --recipe timm for timm's",
    onnx: { model, inputName: onnx.inputName, outputName: onnx.outputName },
  };
}

/** Records every layer's weights as the graph reader asks for them (the independent rebuild sets them by name). */
function recording(weightsOf: KerasWeightsOf) {
  const layerWeights = new Map<string, Map<string, WeightArray>>();
  const record: KerasWeightsOf = (ref) => {
    const roles = weightsOf(ref);
    layerWeights.set([...ref.models, ref.name].join('/'), roles);
    return roles;
  };
  return { record, layerWeights };
}

function kerasSource(kind: SourceKind, path: string, detail: string, config: KerasLayerConfig, weightsOf: KerasWeightsOf, o: ReadOptions): SourceNetwork {
  const { record, layerWeights } = recording(weightsOf);
  const { graph, inputSize: declared } = kerasGraph(config, record);
  const recognized: Recognized = recognizeResNet(graph);
  if (o.inputSize && declared && o.inputSize !== declared && recognized.description.pooling === 'flatten') throw new SourceError(`${path}: its input is ${declared}×${declared} and its head flattens the map; --input-size ${o.inputSize} cannot be built`);
  const inputSize = o.inputSize ?? declared ?? 224;
  const preprocess = recognized.inputScaling ? rescalingSpec(inputSize, recognized.inputScaling) : recipeSpec('keras', inputSize);
  return {
    kind,
    path,
    detail,
    description: { ...recognized.description, inputSize },
    weights: recognized.weights,
    outputKind: recognized.outputKind,
    labels: null,
    preprocess,
    preprocessFrom: recognized.inputScaling
      ? `the model's own Rescaling layer (×${recognized.inputScaling.scale} + ${recognized.inputScaling.offset}), the whole image resized with PIL's nearest`
      : "Keras' recipe: flow_from_directory's nearest resize of the whole image, ResNet50 preprocess_input (caffe: BGR, means subtracted)",
    keras: { config, layerWeights },
  };
}

async function fromKerasH5(path: string, o: ReadOptions): Promise<SourceNetwork> {
  const h5 = await readKerasH5File(path);
  if (h5.modelConfig) {
    const detail = `Keras ${h5.kerasVersion} whole-model .h5 (${h5.modelConfig.class_name})`;
    return kerasSource('keras-h5', path, detail, h5.modelConfig, h5WeightsOf(h5, path), o);
  }
  return fromKerasWeights(path, h5, o);
}

/** A weights-only file with keras-applications' layer names and its top (`resnet50_weights_tf_dim_ordering_tf_kernels.h5`). */
function fromKerasWeights(path: string, h5: KerasH5, o: ReadOptions): SourceNetwork {
  const weights: LayerWeights = new Map();
  for (const [layer, group] of h5.groups) if (group.arrays.length > 0) weights.set(layer, group.arrays);
  const head = weights.get('predictions');
  if (!head) throw new SourceError(`${path} has no "predictions" layer: it is a no-top weights file. import needs the classifier (a whole model saved with model.save, or keras-applications' …_tf_kernels.h5, not …_notop.h5)`);
  const blocksIn = (stage: number) => [...weights.keys()].filter((k) => new RegExp(`^conv${stage + 2}_block\\d+_1_conv$`).test(k)).length;
  const found = [0, 1, 2, 3].map(blocksIn);
  const depth = (Object.entries(STAGE_BLOCKS).find(([, b]) => b.join() === found.join())?.[0] ?? null) as `${ResNetDepth}` | null;
  if (!depth) throw new SourceError(`${path}: blocks per stage ${found.join(', ')}: not a Keras ResNet50, 101 or 152 weights file`);
  const classes = head[0]!.shape[1]!;
  const inputSize = o.inputSize ?? 224;
  return {
    kind: 'keras-weights',
    path,
    detail: `Keras ${h5.kerasVersion} weights-only .h5 (keras-applications' layer names)`,
    description: standardResNet({ depth: Number(depth) as ResNetDepth, inputSize, classes, head: 'keras' }),
    weights,
    outputKind: 'probabilities',
    labels: null,
    preprocess: { ...recipeSpec('keras', inputSize), filter: 'area', alphaBackground: [255, 255, 255] },
    preprocessFrom: "Keras' ResNet50 preprocess_input (caffe), the whole image resized by area",
  };
}

async function fromKerasV3(path: string, o: ReadOptions): Promise<SourceNetwork> {
  const v3 = await readKerasV3(path);
  try {
    return kerasSource('keras-v3', path, `Keras ${v3.kerasVersion} .keras (${v3.modelConfig.class_name})`, v3.modelConfig, v3.weightsOf, o);
  } finally {
    v3.close();
  }
}

async function fromHuggingFace(dir: string, o: ReadOptions): Promise<SourceNetwork> {
  const hf = await readHfResNet(dir);
  const spec = hf.preprocessor ? huggingFaceSpec(hf.preprocessor, `${dir}/preprocessor_config.json`) : null;
  const inputSize = o.inputSize ?? spec?.width ?? 224;
  const preprocess = spec ? { ...spec, ...(spec.width !== inputSize ? { width: inputSize, height: inputSize, ...(spec.resize === 'shorter-side' ? { resizeShorter: Math.round((spec.resizeShorter! * inputSize) / spec.width) } : {}) } : {}) } : recipeSpec('torchvision', inputSize);
  return {
    kind: 'huggingface',
    path: dir,
    detail: `Hugging Face ${hf.config.architectures?.[0] ?? 'ResNet'} folder`,
    description: { ...hf.description, inputSize },
    weights: hf.weights,
    outputKind: 'logits',
    labels: hf.labels,
    preprocess,
    preprocessFrom: spec ? `the folder's preprocessor_config.json (${String(hf.preprocessor!.image_processor_type ?? hf.preprocessor!.feature_extractor_type)})` : "no preprocessor_config.json: torchvision's ImageNet recipe",
  };
}
