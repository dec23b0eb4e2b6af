import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testDir } from '../../test/temp-dir.js';
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFor } from './fit-checkpoint.js';
import { createNodeSession } from '../ort/node.js';
import { partitionBySize } from './fit-worker.js';
import { fitDataParallel, type ParallelFitOptions } from './parallel-fit.js';
import { trainableParameterCount } from '../network/resnet.js';
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

  it('an interrupted run resumes from its checkpoint and ends with the same bytes as one that never stopped', async () => {
    await useBackend('wasm');
    const model = { inputSize: 32, classes: 2, bnMomentum: 0.9, zeroInitResidual: true, residualGamma: 0.2, seed: 6 };
    const tensors = Array.from({ length: 8 }, (_, i) => Float32Array.from({ length: 3 * 32 * 32 }, (_, k) => Math.cos(k * 0.21 + i) * 50));
    const base: ParallelFitOptions = {
      workers: 2, model, tensors, labelsOf: tensors.map((_, i) => i % 2), parameters: trainableParameterCount(model), width: 32, height: 32, classes: 2,
      batchPerWorker: 2, steps: 4, schedule: { base: 1e-3, warmup: 1, final: 1e-4 },
      // Augmentation on: its random stream is replayed on resume, not stored.
      augment: { rotation: 30, widthShift: 0.1, heightShift: 0.1, zoom: 0.1, horizontalFlip: true }, seed: 2,
    };
    const whole = await fitDataParallel(base);

    const file = join(testDir('fit-ckpt-'), 'run.ckpt');
    const stop = new AbortController();
    const interrupted = fitDataParallel({ ...base, checkpoint: { file, every: 2, extra: () => ({ note: 'curve so far' }) }, signal: stop.signal, onStep: (s) => s.step === 2 && stop.abort(new Error('stopped')) });
    await expect(interrupted).rejects.toThrow('stopped');
    const saved = decodeCheckpoint(new Uint8Array(readFileSync(file)));
    expect(saved.step).toBe(1); // written after the 2nd step; the 3rd was lost with the interruption
    expect(saved.extra).toEqual({ note: 'curve so far' });

    const resumedAt: number[] = [];
    const steps: number[] = [];
    const resumed = await fitDataParallel({ ...base, checkpoint: { file, every: 2, onResume: (step) => resumedAt.push(step) }, onStep: (s) => steps.push(s.step) });
    expect(resumedAt).toEqual([1]);
    expect(steps).toEqual([2, 3]);
    expect(Buffer.from(resumed).equals(Buffer.from(whole))).toBe(true);

    // Negative control: the same resume with Adam's moments lost gives other weights (the comparison can fail).
    writeFileSync(file, encodeCheckpoint({ ...saved, workers: saved.workers.map((w) => ({ ...w, m: w.m.map((m) => new Float32Array(m.length)), v: w.v.map((v) => new Float32Array(v.length)) })) }));
    const forgetful = await fitDataParallel({ ...base, checkpoint: { file, every: 2 } });
    expect(Buffer.from(forgetful).equals(Buffer.from(whole))).toBe(false);
    // A checkpoint of another run (other options or data, or already at its end) is not used.
    expect(await readCheckpointFor(file, { ...saved.run, fingerprint: 'other' })).toBeNull();
    expect(await readCheckpointFor(file, { ...saved.run, steps: 2 })).toBeNull();
    expect(await readCheckpointFor(file, saved.run)).not.toBeNull();
  }, 300_000);
});
