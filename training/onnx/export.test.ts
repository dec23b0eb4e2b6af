import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDir } from '../../test/temp-dir.js';
import { buildResNet50 } from '../network/resnet.js';
import { createNodeSession } from '../ort/node.js';
import { tf, useBackend } from '../tf/backend.js';
import { exportToOnnx } from './export.js';
import { encodeModel, OPSET } from './proto.js';
import { onnxChecker } from '../../test/node/onnx-checker.js';

let model: tf.LayersModel;
let bytes: Uint8Array;
const size = 48;

beforeAll(async () => {
  await useBackend('wasm');
  model = buildResNet50({ inputSize: size, classes: 5, seed: 3 });
  // Non-trivial BatchNorm statistics, so the fold is really exercised (fresh layers hold 0/1).
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const [gamma, beta, mean, variance] = layer.getWeights();
    layer.setWeights([tf.randomUniform(gamma!.shape, 0.3, 0.6, 'float32', 1), tf.randomNormal(beta!.shape, 0, 0.1, 'float32', 2), tf.randomNormal(mean!.shape, 0, 0.2, 'float32', 3), tf.randomUniform(variance!.shape, 0.5, 2, 'float32', 4)]);
  }
  bytes = encodeModel(exportToOnnx(model));
});

describe('ONNX export', () => {
  it('agrees with tfjs on the same inputs to ≤ 1e-4 (onnxruntime-node as the reference runtime)', async () => {
    const x = tf.randomNormal([3, size, size, 3], 0, 40, 'float32', 7);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const session = await createNodeSession(bytes);
    const nchw = tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array;
    const got = (await session.run(nchw, [3, 3, size, size])).probabilities!.data;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i]! - got[i]!));
    expect(worst).toBeLessThanOrEqual(1e-4);
    // Not a degenerate comparison: the outputs are not all one-hot.
    expect(Math.max(...Array.from(expected))).toBeLessThan(0.999);
    await session.release();
  });

  it('is NCHW float32 `input` → `probabilities`, dynamic batch, opset 13, BN folded, Keras node names', async () => {
    const { decodeModel } = await import('./proto.js');
    const m = decodeModel(bytes);
    expect(Number(m.opsetImport![0]!.version)).toBe(OPSET);
    const input = m.graph!.input![0]!;
    expect(input.name).toBe('input');
    expect(input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 3, size, size]);
    expect(m.graph!.output![0]!.name).toBe('probabilities');
    const ops = m.graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('BatchNormalization');
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(53);
    const names = m.graph!.node!.map((n) => n.name);
    expect(names).toContain('conv1_conv');
    expect(names).toContain('conv5_block3_3_conv');
    expect(names).toContain('conv4_block6_out');
  });

  const checker = onnxChecker();
  it.skipIf(!checker)('passes onnx.checker (full_check) from Debian python3-onnx [skipped when python3-onnx is absent]', () => {
    const dir = testDir('onnx-check-');
    writeFileSync(join(dir, 'm.onnx'), bytes);
    expect(checker!(join(dir, 'm.onnx'))).toBe('ok 13');
  });
});
