import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../tf/backend.js';
import { buildResNet50 } from './resnet.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('ResNet50 topology (Keras applications/resnet.py)', () => {
  it('matches Keras ResNet50: 177 layers, 25,636,712 parameters with the 1000-class top', () => {
    const model = buildResNet50({ inputSize: 224, classes: 1000, head: 'keras' });
    expect(model.layers).toHaveLength(177);
    expect(model.countParams()).toBe(25_636_712);
    model.dispose();
  });

  it('builds ResNet101 and ResNet152 as Keras does: 44,707,176 and 60,419,944 parameters with the top, stage 4 of 23 and 36 blocks', () => {
    for (const [depth, layers, params, conv3, conv4] of [[101, 347, 44_707_176, 4, 23], [152, 517, 60_419_944, 8, 36]] as const) {
      const model = buildResNet50({ inputSize: 224, classes: 1000, head: 'keras', depth });
      expect(model.layers).toHaveLength(layers);
      expect(model.countParams()).toBe(params);
      const names = new Set(model.layers.map((l) => l.name));
      expect([names.has(`conv3_block${conv3}_out`), names.has(`conv3_block${conv3 + 1}_out`), names.has(`conv4_block${conv4}_out`), names.has(`conv4_block${conv4 + 1}_out`)]).toEqual([true, false, true, false]);
      expect(model.name).toBe(`resnet${depth}`);
      model.dispose();
    }
    expect(() => buildResNet50({ inputSize: 224, classes: 10, depth: 34 as 50 })).toThrow(/depth/);
  });

  it('names every layer as Keras does, so weights map by name', () => {
    const model = buildResNet50({ inputSize: 64, classes: 5 });
    const names = model.layers.map((l) => l.name);
    expect(names.slice(0, 7)).toEqual(['input', 'conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1_pool']);
    expect(names.slice(7, 19)).toEqual([
      'conv2_block1_1_conv', 'conv2_block1_1_bn', 'conv2_block1_1_relu', 'conv2_block1_2_conv', 'conv2_block1_2_bn', 'conv2_block1_2_relu',
      'conv2_block1_0_conv', 'conv2_block1_3_conv', 'conv2_block1_0_bn', 'conv2_block1_3_bn', 'conv2_block1_add', 'conv2_block1_out',
    ].sort((a, b) => names.indexOf(a) - names.indexOf(b)));
    for (const [stage, blocks] of [['conv2', 3], ['conv3', 4], ['conv4', 6], ['conv5', 3]] as const) {
      for (let b = 1; b <= blocks; b++) expect(names).toContain(`${stage}_block${b}_out`);
      expect(names).not.toContain(`${stage}_block${blocks + 1}_out`);
      expect(names).toContain(`${stage}_block1_0_conv`);
      expect(names).not.toContain(`${stage}_block2_0_conv`);
    }
    expect(names.indexOf('conv5_block3_out')).toBe(174);
    // The recipe's head: GlobalAveragePooling → Dense(1024, relu) → Dense(N, softmax).
    expect(names.slice(175)).toEqual(['avg_pool', 'fc1', 'predictions']);
    expect(model.getLayer('fc1').getConfig()).toMatchObject({ units: 1024, activation: 'relu' });
    expect(model.getLayer('predictions').getConfig()).toMatchObject({ units: 5, activation: 'softmax' });
    expect(model.countParams()).toBe(23_587_712 + 2048 * 1024 + 1024 + 1024 * 5 + 5);
    model.dispose();
  });

  it('takes any input size ≥ 32 and validates its arguments', () => {
    const model = buildResNet50({ inputSize: 32, classes: 3 });
    expect(model.outputs[0]!.shape).toEqual([null, 3]);
    model.dispose();
    expect(() => buildResNet50({ inputSize: 16, classes: 3 })).toThrow(/inputSize must be an integer ≥ 32, got 16/);
    expect(() => buildResNet50({ inputSize: 64, classes: 1 })).toThrow(/classes must be an integer ≥ 2, got 1/);
  });

  it('zero-initialises the last BN of each residual branch when asked', () => {
    const model = buildResNet50({ inputSize: 32, classes: 2, zeroInitResidual: true });
    const gamma = (name: string) => Array.from(model.getLayer(name).getWeights()[0]!.dataSync());
    expect(gamma('conv3_block2_3_bn').every((v) => v === 0)).toBe(true);
    expect(gamma('conv3_block1_0_bn').every((v) => v === 1)).toBe(true);
    model.dispose();
  });
});
