import { describe, expect, it } from 'vitest';
import { createNodeSession } from '../ort-node.js';
import { partitionBySize } from './fit-worker.js';
import { fitDataParallel } from './parallel-fit.js';
import { trainableParameterCount } from '../model/resnet50.js';
import { useBackend } from '../tf/backend.js';

describe('data-parallel training', () => {
  it('partitions variables into balanced groups that cover each index once', () => {
    const sizes = [100, 5, 60, 40, 3, 3, 90];
    const groups = partitionBySize(sizes, 2);
    expect(groups.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const totals = groups.map((g) => g.reduce((s, i) => s + sizes[i]!, 0));
    expect(Math.abs(totals[0]! - totals[1]!)).toBeLessThanOrEqual(10);
    expect(partitionBySize(sizes, 1)).toEqual([[0, 1, 2, 3, 4, 5, 6]]);
  });

  it('two workers train one ResNet50 with identical replicas and return a runnable ONNX model', async () => {
    await useBackend('wasm');
    const options = { inputSize: 32, classes: 3, bnMomentum: 0.9, zeroInitResidual: true, residualGamma: 0.2, seed: 4 };
    const parameters = trainableParameterCount(options);
    const tensors = Array.from({ length: 12 }, (_, i) => Float32Array.from({ length: 3 * 32 * 32 }, (_, k) => Math.sin(k * 0.37 + i) * 60));
    const labels = tensors.map((_, i) => i % 3);
    const steps: number[] = [];
    const evaluated: number[] = [];
    const onnx = await fitDataParallel({
      workers: 2,
      model: options,
      tensors,
      labelsOf: labels,
      parameters,
      width: 32,
      height: 32,
      classes: 3,
      batchPerWorker: 3,
      steps: 3,
      schedule: { base: 1e-3, warmup: 1, final: 1e-4 },
      augment: null,
      seed: 1,
      evaluation: { tensors: tensors.slice(0, 6), labels: labels.slice(0, 6), every: 2, onEvaluate: (_, accuracy) => evaluated.push(accuracy) },
      onStep: (s) => {
        expect(Number.isFinite(s.loss)).toBe(true);
        steps.push(s.step);
      },
    });
    expect(steps).toEqual([0, 1, 2]);
    expect(evaluated).toHaveLength(2); // after step 2 and at the end
    const session = await createNodeSession(onnx);
    const { probabilities } = await session.run(tensors[0]!, [1, 3, 32, 32]);
    await session.release();
    expect(probabilities!.dims).toEqual([1, 3]);
    expect([...probabilities!.data].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  }, 180_000);
});
