/**
 * The sources `import` and `train --weights` read, on files in the published layouts: Keras whole-model .h5
 * (tf.keras and Keras 3, flattened Functional and nested Sequential) and .keras written by keras-fixtures.ts
 * from the formats' specifications; real `torch.onnx.export` files of torchvision ResNets and the same weights
 * as a Hugging Face folder, made by Debian's python3-torch (test/reference/torch_resnet.py; skipped, saying why,
 * where it is not installed). Each source is read into the network description and rebuilt; the rebuilt
 * network must compute what the source computes, checked against the source itself (the tfjs model that wrote
 * the Keras files, the torch export in onnxruntime-node).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { pythonWith } from '../../test/reference/python.js';
import { suiteDir, testDir } from '../../test/temp-dir.js';
import { loadImageTensors } from '../data/load.js';
import { writeShapesDataset } from '../data/write-shapes.js';
import { readFolderDataset } from '../data/folder.js';
import { setBatchNormStatistics } from '../network/batch-norm-statistics.js';
import { buildResNet50 } from '../network/resnet.js';
import { exportToOnnx } from '../onnx/export.js';
import { decodeModel, encodeModel, node } from '../onnx/proto.js';
import { createNodeSession } from '../ort/node.js';
import { tf, useBackend } from '../tf/backend.js';
import { SourceError } from './graph.js';
import { writeKerasH5 } from './keras-weights-fixture.js';
import { writeKerasH5Model, writeKerasV3 } from './keras-fixtures.js';
import { weightRole } from './keras-h5.js';
import { inboundLayers } from './keras-model.js';
import { containerPaths, toSnakeCase } from './keras-v3.js';
import { resolveLabels } from './labels.js';
import { buildFromSource, checkAgainstSource } from './reference-check.js';
import { readSource } from './source.js';

const SIZE = 64;
const CLASSES = 5;
const dir = suiteDir('sources-');
const shapes = join(dir, 'shapes');
let inputs: Float32Array[] = [];

/** The largest |Δ| relative to the reference's scale. */
function relativeDiff(ours: ArrayLike<number>, reference: ArrayLike<number>) {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i]! - reference[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return worst / Math.max(1, scale);
}

async function runOnnx(bytes: Uint8Array, xs: Float32Array[], size = SIZE): Promise<Float32Array> {
  const session = await createNodeSession(bytes);
  const out: number[] = [];
  for (const x of xs) out.push(...(await session.run(x, [1, 3, size, size]))[session.outputNames[0]!]!.data);
  await session.release();
  return Float32Array.from(out);
}

beforeAll(async () => {
  await useBackend('wasm');
  await writeShapesDataset({ dir: shapes, splits: [{ name: 'train', perClass: 8 }], seed: 9, minSize: 60, maxSize: 160 });
}, 120_000);

describe('Keras files in the published layouts', () => {
  let model: tf.LayersModel;
  let expected: Float32Array;
  beforeAll(async () => {
    // The recipe's network with trained-like statistics (measured on images) and non-trivial BN and bias values.
    model = buildResNet50({ inputSize: SIZE, classes: CLASSES, seed: 3 });
    const files = (await readFolderDataset(join(shapes, 'train'))).files;
    const set = await loadImageTensors(files, { width: SIZE, height: SIZE, resize: 'stretch', filter: 'nearest', colorOrder: 'BGR', mean: [103.939, 116.779, 123.68], std: [1, 1, 1], alphaBackground: null, exifOrientation: true });
    inputs = set.tensors.slice(0, 6);
    const nhwc = (xs: Float32Array[]) => tf.transpose(tf.tensor4d(Float32Array.from(xs.flatMap((x) => Array.from(x))), [xs.length, 3, SIZE, SIZE]), [0, 2, 3, 1]) as tf.Tensor4D;
    setBatchNormStatistics(model, nhwc(set.tensors));
    let k = 0;
    for (const layer of model.layers) {
      if (layer.getClassName() !== 'BatchNormalization') continue;
      const [g, b, m, v] = layer.getWeights();
      layer.setWeights([tf.randomUniform(g!.shape, 0.5, 1.5, 'float32', k++), tf.randomUniform(b!.shape, -0.2, 0.2, 'float32', k++), m!, v!]);
    }
    expected = (model.predict(nhwc(inputs)) as tf.Tensor).dataSync() as Float32Array;
  }, 300_000);

  const forms = [
    ['tf.keras .h5, trunk flattened into a Functional model', (p: string) => writeKerasH5Model(p, model, { form: 'functional', keras: 2 }), 'x.h5'],
    ['tf.keras .h5, Sequential([resnet50, GAP, Dense, Dense]), layer_names split in two', (p: string) => writeKerasH5Model(p, model, { form: 'sequential', keras: 2, splitLayerNames: true }), 'x.h5'],
    ["Keras 3's legacy .h5 (its {args, kwargs} nodes, names without :0)", (p: string) => writeKerasH5Model(p, model, { form: 'functional', keras: 3 }), 'x.h5'],
    ['Keras 3 .keras, Functional', (p: string) => writeKerasV3(p, model, 'functional'), 'x.keras'],
    ['Keras 3 .keras, Sequential holding the nested ResNet', (p: string) => writeKerasV3(p, model, 'sequential'), 'x.keras'],
  ] as const;

  it.each(forms)('%s: read as the recipe network, rebuilt it computes what the file holds', async (_, write, file) => {
    const path = join(testDir('keras-'), file);
    await write(path);
    const source = await readSource(path);
    expect(source.description).toMatchObject({ variant: 'v1', stemWidth: 64, convBias: true, bnEpsilon: 1.001e-5, pooling: 'avg', inputSize: SIZE });
    expect(source.description.stages.map((s) => [s.width, s.stride, s.blocks.length])).toEqual([[256, 1, 3], [512, 2, 4], [1024, 2, 6], [2048, 2, 3]]);
    expect(source.description.head).toEqual([{ kind: 'dense', units: 1024, activation: 'relu' }, { kind: 'dense', units: CLASSES, activation: 'softmax' }]);
    expect(source.outputKind).toBe('probabilities');
    expect(source.preprocess).toMatchObject({ resize: 'stretch', filter: 'nearest', colorOrder: 'BGR' });
    const rebuilt = await buildFromSource(source);
    const bytes = encodeModel(exportToOnnx(rebuilt));
    rebuilt.dispose();
    expect(relativeDiff(await runOnnx(bytes, inputs), expected)).toBeLessThan(1e-4);
    // The import-time check: tfjs-layers rebuilds the file's own config.
    const check = await checkAgainstSource(source, bytes, inputs.slice(0, 2), source.preprocess);
    expect(check).toMatchObject({ images: 2 });
    expect('max_abs_diff' in check && check.max_abs_diff).toBeLessThan(1e-4);
  });

  it('refuses a layer no ResNet is built from, a file cut short, a .keras without its weights, a no-top file', async () => {
    const t = testDir('keras-bad-');
    const lstm = join(t, 'lstm.h5');
    await writeKerasH5Model(lstm, model, { form: 'functional', keras: 2, editLayers: (layers) => (layers.find((l) => l.name === 'conv3_block2_out')!.class_name = 'LSTM') });
    await expect(readSource(lstm)).rejects.toThrow(/layer "conv3_block2_out" of type LSTM/);
    const whole = join(t, 'whole.h5');
    await writeKerasH5Model(whole, model, { form: 'functional', keras: 2 });
    const cut = join(t, 'cut.h5');
    writeFileSync(cut, readFileSync(whole).subarray(0, 200_000));
    await expect(readSource(cut)).rejects.toThrow(SourceError);
    const zip = join(t, 'noweights.keras');
    writeFileSync(zip, zipSync({ 'config.json': new TextEncoder().encode('{}'), 'metadata.json': new TextEncoder().encode('{}') }));
    await expect(readSource(zip)).rejects.toThrow(/no model\.weights\.h5/);
    const notop = join(t, 'notop.h5');
    await writeKerasH5(notop, buildResNet50({ inputSize: 32, classes: 3, head: 'keras' }), ['predictions']);
    await expect(readSource(notop)).rejects.toThrow(/no-top/);
    await expect(readSource(whole, { depth: 101 })).rejects.toThrow(/--depth 101.*ResNet50/);
  });
});

const torch = pythonWith(['torch', 'torchvision', 'PIL']);

describe.skipIf(!torch.python)(`torch.onnx.export files and Hugging Face folders${torch.python ? '' : ` (skipped: ${torch.reason})`}`, () => {
  const jobs = {
    'BN folded, opset 14, fc Linear': { fold_bn: true, opset: 14, head: 'linear' },
    'BN kept, opset 13, fc = Sequential(Dropout, Linear)': { fold_bn: false, opset: 13, head: 'dropout-linear' },
    'pruned inner widths, softmax out, opset 17': { fold_bn: true, opset: 17, head: 'softmax', prune: 0.5 },
  } as const;
  const made = new Map<string, string>();
  let xs: Float32Array[] = [];
  beforeAll(async () => {
    for (const [name, job] of Object.entries(jobs)) {
      const out = join(dir, `torch-${made.size}`);
      writeFileSync(join(dir, 'job.json'), JSON.stringify({ out, classes: CLASSES, size: SIZE, seed: made.size + 1, bn_images: join(shapes, 'train'), ...job }));
      torch.python!.run('torch_resnet.py', [join(dir, 'job.json')]);
      made.set(name, out);
    }
    const files = (await readFolderDataset(join(shapes, 'train'))).files.slice(0, 4);
    xs = (await loadImageTensors(files, (await readSource(join(made.values().next().value!, 'model.onnx'))).preprocess)).tensors;
  }, 600_000);

  it.each(Object.keys(jobs))('%s: read as torchvision’s v1.5 network; rebuilt, it computes what the export computes', async (name) => {
    const source = await readSource(join(made.get(name)!, 'model.onnx'));
    const job = jobs[name as keyof typeof jobs];
    expect(source.description).toMatchObject({ variant: 'v1.5', convBias: job.fold_bn, pooling: 'avg', inputSize: SIZE });
    expect(source.description.head.at(-1)).toEqual({ kind: 'dense', units: CLASSES, activation: job.head === 'softmax' ? 'softmax' : 'linear' });
    expect(source.outputKind).toBe(job.head === 'softmax' ? 'probabilities' : 'logits');
    const widths = source.description.stages.map((s) => s.blocks[0]!);
    if ('prune' in job) expect(widths).toEqual([{ reduce: 32, spatial: 24 }, { reduce: 64, spatial: 56 }, { reduce: 128, spatial: 120 }, { reduce: 256, spatial: 248 }]);
    else expect(widths).toEqual([64, 128, 256, 512].map((w) => ({ reduce: w, spatial: w })));
    expect(source.preprocess).toMatchObject({ resize: 'shorter-side', resizeShorter: Math.floor(SIZE / 0.875), filter: 'bilinear', colorOrder: 'RGB', alphaBackground: null });
    const rebuilt = await buildFromSource(source);
    const bytes = encodeModel(exportToOnnx(rebuilt));
    rebuilt.dispose();
    expect(relativeDiff(await runOnnx(bytes, xs), await runOnnx(readFileSync(join(made.get(name)!, 'model.onnx')), xs))).toBeLessThan(1e-4);
  });

  it('the same weights as a Hugging Face folder: the same network, the same outputs', async () => {
    for (const name of ['BN folded, opset 14, fc Linear', 'pruned inner widths, softmax out, opset 17']) {
      const hf = await readSource(join(made.get(name)!, 'hf'));
      const onnx = await readSource(join(made.get(name)!, 'model.onnx'));
      expect(hf.description.stages).toEqual(onnx.description.stages);
      expect(hf.labels).toEqual(['class-0', 'class-1', 'class-2', 'class-3', 'class-4']);
      expect(hf.preprocess).toMatchObject({ resize: 'shorter-side', resizeShorter: Math.trunc(SIZE / 0.875), filter: 'bilinear', cropRounding: 'floor' });
      const built = await buildFromSource(hf);
      const logits = await runOnnx(encodeModel(exportToOnnx(built)), xs);
      built.dispose();
      const reference = await runOnnx(readFileSync(join(made.get(name)!, 'model.onnx')), xs);
      if (onnx.outputKind === 'probabilities') {
        // The export ends in softmax; the folder holds logits: compare their softmax.
        const softmax = new Float32Array(logits.length);
        for (let r = 0; r < logits.length; r += CLASSES) {
          const row = logits.subarray(r, r + CLASSES);
          const max = Math.max(...row);
          const e = Array.from(row, (v) => Math.exp(v - max));
          const sum = e.reduce((a, b) => a + b, 0);
          e.forEach((v, i) => (softmax[r + i] = v / sum));
        }
        expect(relativeDiff(softmax, reference), name).toBeLessThan(1e-4);
      } else expect(relativeDiff(logits, reference), name).toBeLessThan(1e-4);
    }
  });
});

describe('what is not a ResNet classifier', () => {
  it('refuses a plain CNN, an operation no ResNet has, and HF folders that are not one', async () => {
    const t = testDir('not-resnet-');
    const input = tf.input({ shape: [32, 32, 3], name: 'input' });
    let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'c' }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({ name: 'g' }).apply(x) as tf.SymbolicTensor;
    const plain = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, activation: 'softmax', name: 'predictions' }).apply(x) as tf.SymbolicTensor });
    writeFileSync(join(t, 'plain.onnx'), encodeModel(exportToOnnx(plain)));
    await expect(readSource(join(t, 'plain.onnx'))).rejects.toThrow(/Conv "c": expected the ResNet stem/);
    const resnet = exportToOnnx(buildResNet50({ inputSize: 32, classes: 3, seed: 1 }));
    const sigmoid = decodeModel(encodeModel(resnet));
    const relu = sigmoid.graph!.node!.findIndex((n) => n.name === 'conv3_block1_out');
    sigmoid.graph!.node![relu] = node('Sigmoid', sigmoid.graph!.node![relu]!.input as string[], sigmoid.graph!.node![relu]!.output as string[], 'conv3_block1_out');
    writeFileSync(join(t, 'sigmoid.onnx'), encodeModel(sigmoid));
    await expect(readSource(join(t, 'sigmoid.onnx'))).rejects.toThrow(/Sigmoid "conv3_block1_out"/);
    writeFileSync(join(t, 'garbage.bin'), 'not a model at all');
    await expect(readSource(join(t, 'garbage.bin'))).rejects.toThrow(SourceError);
    const hf = join(t, 'hf');
    (await import('node:fs')).mkdirSync(hf);
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ model_type: 'resnet', layer_type: 'basic', depths: [2, 2, 2, 2] }));
    await expect(readSource(hf)).rejects.toThrow(/basic blocks/);
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ model_type: 'resnet', layer_type: 'bottleneck' }));
    await expect(readSource(hf)).rejects.toThrow(/no model\.safetensors/);
    writeFileSync(join(hf, 'model.safetensors'), Buffer.concat([Buffer.from([200, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a": {"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'.padEnd(200))]));
    await expect(readSource(hf)).rejects.toThrow(/tensor "a".*cut short/);
  });
});

describe('labels', () => {
  it('from a file, from class folders, from the source, ImageNet for 1,000 outputs; a wrong count is an error', async () => {
    const t = testDir('labels-');
    writeFileSync(join(t, 'three.txt'), 'cat\ndog\nbird\n');
    await expect(resolveLabels(3, null, { labelsFile: join(t, 'three.txt') })).resolves.toMatchObject({ labels: ['cat', 'dog', 'bird'] });
    await expect(resolveLabels(5, null, { labelsFile: join(t, 'three.txt') })).rejects.toThrow(/gives 3 labels; the classifier has 5 outputs/);
    await expect(resolveLabels(5, null, { labelsFrom: shapes })).resolves.toMatchObject({ labels: ['circle', 'cross', 'square', 'star', 'triangle'] });
    await expect(resolveLabels(2, ['b', 'a'], {})).resolves.toMatchObject({ labels: ['b', 'a'] });
    const hfImagenet = Array.from({ length: 1000 }, (_, i) => (i === 0 ? 'tench, Tinca tinca' : i === 999 ? 'toilet tissue, toilet paper, bathroom tissue' : `c${i}`));
    expect((await resolveLabels(1000, hfImagenet, {})).labels.slice(0, 1)).toEqual(['TENCH']);
    await expect(resolveLabels(7, null, {})).rejects.toThrow(/give --labels FILE/);
  });
});

describe('layout facts the readers rely on (../shared/reference/IMPORT-FORMATS.md)', () => {
  it('Keras 3 container names, Keras 2 and 3 nodes, weight names with and without :0', () => {
    // keras/src/utils/naming.py to_snake_case
    expect(['Conv2D', 'BatchNormalization', 'ZeroPadding2D', 'GlobalAveragePooling2D', 'InputLayer', 'Functional'].map(toSnakeCase)).toEqual(['conv2d', 'batch_normalization', 'zero_padding2d', 'global_average_pooling2d', 'input_layer', 'functional']);
    // tf_keras engine/node.py; keras/src/models/functional.py serialize_node
    expect(inboundLayers([[['a', 0, 0, {}], ['b', 1, 0, {}]]], 'add')).toEqual(['a', 'b']);
    const t = (n: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: [n, 0, 0] } });
    expect(inboundLayers([{ args: [[t('a'), t('b')]], kwargs: {} }], 'add')).toEqual(['a', 'b']);
    // tf_keras hdf5_format.py: weight names are variable names, `:0` in TF 2, none in Keras 3
    expect([weightRole('conv1_conv/kernel:0'), weightRole('conv1_bn/gamma'), weightRole('resnet50/conv1_bn/moving_mean:0')]).toEqual([{ layer: 'conv1_conv', role: 'kernel' }, { layer: 'conv1_bn', role: 'gamma' }, { layer: 'conv1_bn', role: 'moving_mean' }]);
    // saving_lib.py _save_container_state: class names made unique in order, nested containers under layers/
    const config = { class_name: 'Sequential', config: { layers: [{ class_name: 'InputLayer', config: { name: 'in' } }, { class_name: 'Functional', config: { name: 'base', layers: [{ class_name: 'InputLayer', config: { name: 'i' } }, { class_name: 'Conv2D', config: { name: 'c1' } }, { class_name: 'Conv2D', config: { name: 'c2' } }] } }, { class_name: 'Dense', config: { name: 'd' } }, { class_name: 'Dense', config: { name: 'd2' } }] } };
    expect(Object.fromEntries(containerPaths(config))).toEqual({ base: 'layers/functional', 'base/i': 'layers/functional/layers/input_layer', 'base/c1': 'layers/functional/layers/conv2d', 'base/c2': 'layers/functional/layers/conv2d_1', d: 'layers/dense', d2: 'layers/dense_1' });
  });
});
