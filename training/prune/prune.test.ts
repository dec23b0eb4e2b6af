import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { standardResNet, type ResNetDescription } from '../network/description.js';
import { gmacOf } from '../network/macs.js';
import { buildResNet } from '../network/resnet.js';
import { setBatchNormStatistics } from '../network/batch-norm-statistics.js';
import { applyLayerWeights, type LayerWeights } from '../sources/layer-weights.js';
import { useBackend } from '../tf/backend.js';
import { bnGammaScores, l1Scores, prunableConvolutions, PruneInputError, scoredConvolutions, streamConvolutions, taylorScores } from './rank.js';
import { bestChannels, keptChannels, pruneNetwork, sliceKernel } from './slice.js';

beforeAll(async () => {
  await useBackend('wasm'); // the CPU path training takes (tfjs' plain-JS backend is ~10× slower on convolutions)
});

const weightsOf = (model: tf.LayersModel): LayerWeights =>
  new Map(model.layers.filter((l) => l.weights.length > 0).map((l) => [l.name, l.getWeights().map((t) => ({ shape: [...t.shape], data: Float32Array.from(t.dataSync()) }))]));

const halve = (d: ResNetDescription): ResNetDescription => ({ ...d, stages: d.stages.map((s) => ({ ...s, blocks: s.blocks.map((b) => ({ reduce: b.reduce / 2, spatial: b.spatial / 2 })) })) });

describe('multiply-accumulates (../shared/reference/PRUNING.md, counted layer by layer)', () => {
  it('counts torchvision ResNet-50 (v1.5) as the literature does: 4.09 G at 224, 3.00 at 192, 2.09 at 160; inner widths at half 1.82', () => {
    const at = (inputSize: number) => standardResNet({ inputSize, classes: 1000, head: 'keras', variant: 'v1.5' });
    expect([224, 192, 160].map((s) => gmacOf(at(s)).toFixed(2))).toEqual(['4.09', '3.00', '2.09']);
    expect(gmacOf(halve(at(224))).toFixed(2)).toBe('1.82');
    // v1 strides the first 1×1, so its 3×3 runs on the smaller map: fewer MACs for the same weights.
    expect(gmacOf(standardResNet({ inputSize: 224, classes: 1000, head: 'keras' }))).toBeLessThan(gmacOf(at(224)));
  });
});

describe('channel counts', () => {
  it('keeps multiples of 8, at least 8, at most the width; the best-scored channels in their own order', () => {
    expect([keptChannels(64, 0.5), keptChannels(64, 0.35), keptChannels(64, 0.75), keptChannels(512, 0.35), keptChannels(64, 0.01), keptChannels(6, 0.5), keptChannels(64, 1)]).toEqual([32, 24, 48, 176, 8, 6, 64]);
    expect(bestChannels(Float64Array.from([0.1, 5, 0.2, 3, 4]), 3)).toEqual([1, 3, 4]);
  });

  it('cuts an NHWC kernel on both channel axes', () => {
    // [1, 1, 3, 4]: value = 10·input + output.
    const kernel = { shape: [1, 1, 3, 4], data: Float32Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4)) };
    expect(Array.from(sliceKernel(kernel, [0, 2], [1, 3]).data)).toEqual([1, 3, 21, 23]);
    expect(sliceKernel(kernel, [0, 2], [1, 3]).shape).toEqual([1, 1, 2, 2]);
  });
});

describe('pruning a network', () => {
  it('the pruned network computes what the full one does when the cut channels are silenced; l1 finds exactly those channels', () => {
    const d = standardResNet({ inputSize: 32, classes: 3, head: 'keras' });
    const model = buildResNet(d, { seed: 7 });
    const images = tf.randomNormal([4, 32, 32, 3], 0, 40, 'float32', 3) as tf.Tensor4D;
    setBatchNormStatistics(model, images);
    const weights = weightsOf(model);
    // Silence every other channel of each inner BN (γ = β = 0: the ReLU after it outputs 0, nothing flows on).
    const silenced = new Map<string, number[]>();
    for (const conv of prunableConvolutions(d)) {
      const bn = weights.get(conv.replace(/_conv$/, '_bn'))!;
      const off = [...Array(bn[0]!.shape[0]!).keys()].filter((c) => c % 2 === 1);
      for (const c of off) bn[0]!.data[c] = bn[1]!.data[c] = 0;
      silenced.set(conv, off);
    }
    // A small classifier: a saturated softmax (clipped like Keras) would pass no gradient back to Taylor.
    for (const w of weights.get('predictions')!) w.data.forEach((v, i) => (w.data[i] = v * 0.01));
    applyLayerWeights(model, weights);
    const pruned = pruneNetwork(d, weights, l1Scores(d, weights), 0.5);
    for (const [conv, kept] of pruned.kept) expect(kept.some((c) => silenced.get(conv)!.includes(c)), conv).toBe(false);
    expect(pruned.description.stages.map((s) => s.blocks[0]!.reduce)).toEqual([32, 64, 128, 256]);
    const small = buildResNet(pruned.description, { seed: 1 });
    const report = applyLayerWeights(small, pruned.weights);
    expect(report.missing).toEqual([]);
    const want = (model.predict(images) as tf.Tensor).dataSync();
    const got = (small.predict(images) as tf.Tensor).dataSync();
    const diff = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!)));
    expect(diff).toBeLessThan(1e-5);
    expect(gmacOf(pruned.description)).toBeLessThan(gmacOf(d) / 2);
    // The same network with other channels cut computes something else (the test can fail).
    const wrong = pruneNetwork(d, weights, new Map([...l1Scores(d, weights)].map(([k, v]) => [k, v.map((x) => -x)])), 0.5);
    const other = buildResNet(wrong.description, { seed: 1 });
    applyLayerWeights(other, wrong.weights);
    const off = (other.predict(images) as tf.Tensor).dataSync();
    expect(Math.max(...Array.from(off, (v, i) => Math.abs(v - want[i]!)))).toBeGreaterThan(1e-3);
    // Taylor ranks the silenced channels last too: no gradient reaches γ through a zero ReLU input.
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3).toFloat() as tf.Tensor2D;
    const taylor = taylorScores(d, model, [{ x: images, y: labels }]);
    for (const conv of ['conv2_block1_2_conv', 'conv5_block3_1_conv']) {
      const s = taylor.get(conv)!;
      expect(silenced.get(conv)!.every((c) => s[c] === 0), conv).toBe(true);
      expect(Array.from(s).some((v) => v > 0), conv).toBe(true);
    }
    tf.dispose([images, labels]);
    [model, small, other].forEach((m) => m.dispose());
  });

  it('cuts each stage\'s residual stream as one group (projection, every _3_conv, the readers, the head): the same function when those channels are silent', () => {
    const d = { ...standardResNet({ inputSize: 32, classes: 3, head: 'recipe' }), head: [{ kind: 'batch-norm' as const, epsilon: 1e-3 }, { kind: 'dense' as const, units: 16, activation: 'relu' as const }, { kind: 'dense' as const, units: 3, activation: 'softmax' as const }] };
    const model = buildResNet(d, { seed: 5 });
    const images = tf.randomNormal([4, 32, 32, 3], 0, 40, 'float32', 9) as tf.Tensor4D;
    setBatchNormStatistics(model, images);
    const weights = weightsOf(model);
    // A stream channel is silent when every layer adding into it outputs 0 there: the add and its ReLU give 0.
    const silenced = d.stages.map((stage, i) => {
      const off = [...Array(stage.width).keys()].filter((c) => c % 4 !== 0);
      for (const conv of streamConvolutions(d)[i]!) {
        const bn = weights.get(conv.replace(/_conv$/, '_bn'))!;
        for (const c of off) bn[0]!.data[c] = bn[1]!.data[c] = 0;
      }
      return off;
    });
    // The head's BN maps a silent channel to β − γμ/σ ≠ 0: the cut must move that into the next dense's bias.
    weights.get('head_bn')![1]!.data.fill(0.3);
    weights.get('head_bn')![2]!.data.fill(0.1);
    for (const w of weights.get('predictions')!) w.data.forEach((v, k) => (w.data[k] = v * 0.01)); // an unsaturated softmax: outputs that can differ
    applyLayerWeights(model, weights);
    const scores = l1Scores(d, weights, scoredConvolutions(d, 0.25));
    const pruned = pruneNetwork(d, weights, scores, 1, 0.25);
    expect(pruned.description.stages.map((s) => s.width)).toEqual([64, 128, 256, 512]);
    d.stages.forEach((_, i) => expect(pruned.kept.get(`conv${i + 2}_stream`)!.some((c) => silenced[i]!.includes(c))).toBe(false));
    const small = buildResNet(pruned.description, { seed: 1 });
    expect(applyLayerWeights(small, pruned.weights).missing).toEqual([]);
    const want = (model.predict(images) as tf.Tensor).dataSync();
    const got = (small.predict(images) as tf.Tensor).dataSync();
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-5);
    expect(gmacOf(pruned.description)).toBeLessThan(gmacOf(d) * 0.75); // the 1×1s on the stream shrink; the 3×3s keep theirs
    // Other stream channels kept: another function (the test can fail). Scores stay positive, as every criterion's are.
    const flipped = new Map([...scores].map(([k, v]) => [k, k.endsWith('_3_conv') || k.endsWith('_0_conv') ? v.map((x) => 1 / (1 + x)) : v]));
    const wrong = pruneNetwork(d, weights, flipped, 1, 0.25);
    const other = buildResNet(wrong.description, { seed: 1 });
    applyLayerWeights(other, wrong.weights);
    const off = (other.predict(images) as tf.Tensor).dataSync();
    expect(Math.max(...Array.from(off, (v, i) => Math.abs(v - want[i]!)))).toBeGreaterThan(1e-3);
    expect(() => pruneNetwork(d, weights, l1Scores(d, weights), 1, 0.5)).toThrow(/no channel scores for conv2_block1_0_conv/);
    expect(() => pruneNetwork(d, weights, scores, 1, 0)).toThrow(/--keep-stream/);
    expect(() => pruneNetwork({ ...d, pooling: 'flatten' }, weights, scores, 1, 0.5)).toThrow(/flattens/);
    tf.dispose(images);
    [model, small, other].forEach((m) => m.dispose());
  });

  it('refuses bn-gamma on BN folded into its convolution (every γ 1), naming the layer, and a keep outside (0, 1]', () => {
    const d = standardResNet({ inputSize: 32, classes: 3, head: 'keras' });
    const model = buildResNet(d, { seed: 3 });
    const weights = weightsOf(model);
    // Fresh BN layers: γ 1, β 0, mean 0, variance 1 — what recognize.ts leaves for a folded BN (variance 1 − ε there).
    for (const [name, w] of weights) if (name.endsWith('_bn')) w[3]!.data.fill(1 - d.bnEpsilon);
    expect(() => bnGammaScores(d, weights)).toThrow(/conv2_block1_1_bn was folded .*--by l1 or --by taylor/);
    weights.get('conv2_block1_1_bn')![0]!.data[0] = 0.5;
    expect(() => bnGammaScores(d, weights)).toThrow(/conv2_block1_2_bn/);
    expect(() => pruneNetwork(d, weights, l1Scores(d, weights), 0)).toThrow(PruneInputError);
    expect(() => pruneNetwork(d, weights, l1Scores(d, weights), 1.5)).toThrow(/--keep/);
    model.dispose();
  });
});
