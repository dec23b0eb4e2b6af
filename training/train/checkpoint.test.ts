import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDir } from '../../test/temp-dir.js';
import { buildResNet50 } from '../network/resnet.js';
import { tf, useBackend } from '../tf/backend.js';
import { readCheckpoint, restoreWeights, saveCheckpoint } from './checkpoint.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** One hash-like fingerprint per weight (sum and a position-weighted sum: any changed value shows). */
const snapshot = (m: tf.LayersModel) =>
  m.weights.map((w) => {
    const v = w.read().dataSync() as Float32Array;
    let sum = 0;
    let weighted = 0;
    for (let i = 0; i < v.length; i++) {
      sum += v[i]!;
      weighted += v[i]! * ((i % 97) + 1);
    }
    return [v.length, sum, weighted];
  });

describe('checkpoints', () => {
  it('round-trips weights (BN statistics included), optimizer slots and state', async () => {
    const dir = testDir('ckpt-');
    const a = buildResNet50({ inputSize: 32, classes: 3, seed: 1 });
    const optimizer = tf.train.adam(1e-3);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 10, 'float32', 3);
    const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 3);
    optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(y, a.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
    await saveCheckpoint(join(dir, 'last.ckpt'), a, optimizer, { epoch: 3, note: 'x' });
    const b = buildResNet50({ inputSize: 32, classes: 3, seed: 2 });
    expect(snapshot(b)[0]).not.toEqual(snapshot(a)[0]);
    const c = (await readCheckpoint<{ epoch: number; note: string }>(join(dir, 'last.ckpt')))!;
    expect(c.state).toEqual({ epoch: 3, note: 'x' });
    restoreWeights(b, c.weights);
    expect(snapshot(b)).toEqual(snapshot(a));
    const slots = await optimizer.getWeights();
    expect(c.optimizer.map((o) => o.name)).toEqual(slots.map((s) => s.name));
    expect(Array.from(c.optimizer[1]!.tensor.dataSync())).toEqual(Array.from(slots[1]!.tensor.dataSync()));
    expect(readdirSync(dir)).toEqual(['last.ckpt']); // no temporary file left behind
  });

  it('refuses a truncated or foreign file instead of loading half a model', async () => {
    const dir = testDir('ckpt-');
    const m = buildResNet50({ inputSize: 32, classes: 3 });
    const path = join(dir, 'best.ckpt');
    await saveCheckpoint(path, m, null, {});
    const bytes = readFileSync(path);
    writeFileSync(join(dir, 'cut.ckpt'), bytes.subarray(0, bytes.length - 4096));
    await expect(readCheckpoint(join(dir, 'cut.ckpt'))).rejects.toThrow(/truncated/);
    writeFileSync(join(dir, 'foreign.ckpt'), Buffer.concat([Buffer.from([5, 0, 0, 0, 16, 0, 0, 0]), Buffer.from('{"a":1}'), Buffer.alloc(64)]));
    await expect(readCheckpoint(join(dir, 'foreign.ckpt'))).rejects.toThrow();
    expect(await readCheckpoint(join(dir, 'absent.ckpt'))).toBeNull();
  });
});
