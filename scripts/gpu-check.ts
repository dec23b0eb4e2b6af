/**
 * `npm run gpu-check [-- --json FILE]`: on a machine with a GPU, proves the training path uses it and times a
 * 224 px ResNet50 training step (forward, backward, Adam) there against the CPU path (tfjs wasm + our
 * gradient kernels), on the same weights and the same batch. Also checks the two backends agree: the
 * same first-step loss and the same inference outputs within float tolerance.
 * Exit code 0: GPU found, used, and numerically consistent; 1: no GPU; 2: a check failed.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildResNet50 } from '../training/model/resnet50.js';
import { findHardwareGpu, selectDevice, tf, useBackend } from '../training/tf/backend.js';
import { trainableVariables } from '../training/train/loop.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'string' },
    'input-size': { type: 'string', default: '224' },
    'gpu-batch': { type: 'string', default: '32' },
    'cpu-batch': { type: 'string', default: '4' },
    'gpu-steps': { type: 'string', default: '5' },
    'cpu-steps': { type: 'string', default: '1' },
    'allow-software': { type: 'boolean', default: false },
  },
});
const size = Number(args['input-size']);
const gpuBatch = Number(args['gpu-batch']);
const cpuBatch = Number(args['cpu-batch']);
const classes = 10;
const log = (s: string) => process.stderr.write(`${s}\n`);
if (args['allow-software']) process.env.EDGE_RESNET_ALLOW_SOFTWARE_GPU = '1';

function nvidiaSmi(): string | null {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,memory.used,utilization.gpu', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

/** A fixed batch: the same pixels and labels on both backends. */
function fixedBatch(batch: number) {
  const xs = new Float32Array(batch * size * size * 3);
  let s = 12345;
  for (let i = 0; i < xs.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    xs[i] = ((s >>> 8) / 2 ** 24 - 0.5) * 200; // caffe-mode range
  }
  const labels = Array.from({ length: batch }, (_, i) => i % classes);
  return { xs, labels };
}

interface StepTiming {
  backend: string;
  batch: number;
  firstLoss: number;
  /** The loss after one optimizer step: compares the backward pass and Adam across backends. */
  secondLoss: number;
  secondsPerStep: number;
  imagesPerSecond: number;
  inference: Float32Array;
}

/** Builds the model on the current backend with `weights`, then runs warm-up + timed training steps. */
async function timeSteps(weights: Float32Array[] | null, batch: number, steps: number): Promise<{ timing: StepTiming; weights: Float32Array[] }> {
  const model = buildResNet50({ inputSize: size, classes, seed: 7 });
  if (weights) model.setWeights(weights.map((w, i) => tf.tensor(w, model.weights[i]!.shape as number[])));
  const initial = weights ?? (await Promise.all(model.weights.map(async (w) => Float32Array.from((await w.read().data()) as Float32Array))));
  const { xs, labels } = fixedBatch(batch);
  const x = tf.tensor4d(xs, [batch, size, size, 3]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
  // Small inputs keep the untrained network's softmax away from saturation, so the comparison means something.
  const probe = model.predict(tf.mul(x.slice(0, 2), 0.01)) as tf.Tensor;
  const inference = Float32Array.from((await probe.data()) as Float32Array);
  probe.dispose();
  const optimizer = tf.train.adam(1e-4);
  const variables = trainableVariables(model);
  const step = async () => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, variables);
    optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
    const loss = (await value.data())[0]!;
    // Wait for the update itself, not only the loss: read one updated weight.
    await variables[0]!.slice([0, 0, 0, 0], [1, 1, 1, 1]).data();
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  };
  const firstLoss = await step(); // warm-up (shader compilation, allocation)
  const started = performance.now();
  let secondLoss = NaN;
  for (let i = 0; i < steps; i++) {
    const loss = await step();
    if (i === 0) secondLoss = loss;
  }
  const secondsPerStep = (performance.now() - started) / 1000 / steps;
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
  return { timing: { backend: tf.getBackend(), batch, firstLoss, secondLoss, secondsPerStep, imagesPerSecond: batch / secondsPerStep, inference }, weights: initial };
}

const report: Record<string, unknown> = { input_size: size, nvidia_smi_before: nvidiaSmi() };
const adapter = await findHardwareGpu(log);
report.adapter = adapter;
if (!adapter && !process.env.EDGE_RESNET_ALLOW_SOFTWARE_GPU) {
  log('gpu-check: no hardware GPU adapter (Dawn/WebGPU) on this machine; nothing to check');
  process.exit(1);
}

log(`gpu-check: CPU path (tfjs wasm), batch ${cpuBatch}, ${size} px`);
await useBackend('wasm');
const cpu = await timeSteps(null, cpuBatch, Number(args['cpu-steps']));
log(`  ${cpu.timing.secondsPerStep.toFixed(2)} s/step, ${cpu.timing.imagesPerSecond.toFixed(2)} img/s, first loss ${cpu.timing.firstLoss.toFixed(5)}`);

const backend = await selectDevice('gpu', log);
log(`gpu-check: GPU path (tfjs ${backend}), batch ${cpuBatch} for the numeric check, then ${gpuBatch} for speed`);
const same = await timeSteps(cpu.weights, cpuBatch, 1);
const lossDelta = Math.abs(same.timing.firstLoss - cpu.timing.firstLoss);
const stepDelta = Math.abs(same.timing.secondLoss - cpu.timing.secondLoss);
let inferenceDelta = 0;
same.timing.inference.forEach((v, i) => (inferenceDelta = Math.max(inferenceDelta, Math.abs(v - cpu.timing.inference[i]!))));
log(`  same batch as CPU: first loss ${same.timing.firstLoss.toFixed(5)} (|Δ| ${lossDelta.toExponential(2)}), after one Adam step ${same.timing.secondLoss.toFixed(5)} vs ${cpu.timing.secondLoss.toFixed(5)} (|Δ| ${stepDelta.toExponential(2)}), inference max |Δ| ${inferenceDelta.toExponential(2)}`);
report.nvidia_smi_during = nvidiaSmi();
const gpu = await timeSteps(cpu.weights, gpuBatch, Number(args['gpu-steps']));
report.nvidia_smi_after = nvidiaSmi();
log(`  batch ${gpuBatch}: ${gpu.timing.secondsPerStep.toFixed(3)} s/step, ${gpu.timing.imagesPerSecond.toFixed(1)} img/s`);

const strip = ({ inference: _i, ...t }: StepTiming) => t;
Object.assign(report, {
  backend,
  cpu: strip(cpu.timing),
  gpu_same_batch: strip(same.timing),
  gpu: strip(gpu.timing),
  first_loss_abs_delta: lossDelta,
  second_loss_abs_delta: stepDelta,
  inference_max_abs_delta: inferenceDelta,
  speedup_images_per_second: gpu.timing.imagesPerSecond / cpu.timing.imagesPerSecond,
  mixed_precision: 'not available: tfjs wasm and tfjs WebGPU train in float32 only',
});
const ok = backend !== 'wasm' && lossDelta < 1e-3 && stepDelta < 1e-2 && inferenceDelta < 1e-3;
report.ok = ok;
const json = JSON.stringify(report, null, 2);
if (args.json) writeFileSync(args.json, `${json}\n`);
process.stdout.write(`${json}\n`);
log(ok ? `gpu-check: OK — ${backend} is ${(report.speedup_images_per_second as number).toFixed(1)}× the CPU path in images/s` : 'gpu-check: FAILED (see above)');
process.exit(ok ? 0 : 2);
