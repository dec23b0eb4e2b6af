/**
 * `npm run gpu-check [-- --json FILE]`: on a machine with a GPU, proves the training path uses it and times a
 * 224 px ResNet50 training step (forward, backward, Adam) there against the CPU path (tfjs wasm + our
 * gradient kernels), on the same weights and the same batch. Checks the two backends agree (the same
 * first-step loss and inference outputs within float tolerance, with tfjs' WebGPU kernels and with ours), then
 * measures images/s at batches 32 and 64 before and after each of our WebGPU kernels (tf/webgpu/register.ts:
 * tfjs as shipped, then + filter gradient, + batch norm, + Adam (the default set), + tfjs' tiled input gradient)
 * and profiles one step with tfjs' kernels and one with the default set (dispatches and GPU time per program, tf/webgpu/profile.ts).
 * Exit code 0: GPU found, used, and numerically consistent; 1: no GPU; 2: a check failed.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildResNet50 } from '../training/network/resnet.js';
import { createAdam, findHardwareGpu, selectDevice, tf, useBackend } from '../training/tf/backend.js';
import type { StepProfile } from '../training/tf/webgpu/profile.js';
import { trainableVariables } from '../training/train/loop.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'string' },
    'input-size': { type: 'string', default: '224' },
    'gpu-batches': { type: 'string', default: '32,64' },
    'cpu-batch': { type: 'string', default: '4' },
    'gpu-steps': { type: 'string', default: '2' },
    'cpu-steps': { type: 'string', default: '1' },
    'allow-software': { type: 'boolean', default: false },
    /** Only the numeric check and the two profiles (a software Vulkan is too slow for the whole table at 224 px). */
    'profile-only': { type: 'boolean', default: false },
  },
});
const size = Number(args['input-size']);
const gpuBatches = args['gpu-batches'].split(',').map(Number);
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
async function timeSteps(weights: Float32Array[] | null, batch: number, steps: number, profile?: (step: () => void) => Promise<StepProfile>): Promise<{ timing: StepTiming; weights: Float32Array[]; profile?: StepProfile }> {
  const model = buildResNet50({ inputSize: size, classes, seed: 7 });
  if (weights) model.setWeights(weights.map((w, i) => tf.tensor(w, model.weights[i]!.shape as number[])));
  const initial = weights ?? (await Promise.all(model.weights.map(async (w) => Float32Array.from((await w.read().data()) as Float32Array))));
  const { xs, labels } = fixedBatch(batch);
  const x = tf.tensor4d(xs, [batch, size, size, 3]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
  // Small inputs keep the untrained network's softmax away from saturation, so the comparison means something.
  const probe = model.predict(tf.mul(x.slice(0, Math.min(2, batch)), 0.01)) as tf.Tensor;
  const inference = Float32Array.from((await probe.data()) as Float32Array);
  probe.dispose();
  const optimizer = createAdam(1e-4);
  const variables = trainableVariables(model);
  let value: tf.Scalar | undefined;
  let grads: tf.NamedTensorMap = {};
  const record = () => {
    ({ value, grads } = tf.variableGrads(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, variables));
    optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
  };
  const finish = async () => {
    const loss = (await value!.data())[0]!;
    // Wait for the update itself, not only the loss: read one updated weight.
    const probe = variables[0]!.slice([0, 0, 0, 0], [1, 1, 1, 1]);
    await probe.data();
    tf.dispose([value!, probe, ...Object.values(grads)]);
    return loss;
  };
  const step = async () => {
    record();
    return finish();
  };
  const firstLoss = await step(); // warm-up (shader compilation, allocation)
  const started = performance.now();
  let secondLoss = NaN;
  for (let i = 0; i < steps; i++) {
    const loss = await step();
    if (i === 0) secondLoss = loss;
  }
  const secondsPerStep = (performance.now() - started) / 1000 / steps;
  let profiled: StepProfile | undefined;
  if (profile) {
    profiled = await profile(record);
    await finish();
  }
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
  return { timing: { backend: tf.getBackend(), batch, firstLoss, secondLoss, secondsPerStep, imagesPerSecond: batch / secondsPerStep, inference }, weights: initial, profile: profiled };
}

const report: Record<string, unknown> = { command: `npm run gpu-check -- ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(), input_size: size, nvidia_smi_before: nvidiaSmi() };
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
const { useWebGpuKernels, WEBGPU_KERNELS, DEFAULT_WEBGPU_KERNELS } = await import('../training/tf/webgpu/register.js');
const { profileStep } = await import('../training/tf/webgpu/profile.js');
const deltas = (gpu: StepTiming) => {
  let inference = 0;
  gpu.inference.forEach((v, i) => (inference = Math.max(inference, Math.abs(v - cpu.timing.inference[i]!))));
  return { first_loss_abs_delta: Math.abs(gpu.firstLoss - cpu.timing.firstLoss), second_loss_abs_delta: Math.abs(gpu.secondLoss - cpu.timing.secondLoss), inference_max_abs_delta: inference };
};
const checks: Record<string, ReturnType<typeof deltas>> = {};
for (const [name, kernels] of [['tfjs', []], ['ours', DEFAULT_WEBGPU_KERNELS], ['all', WEBGPU_KERNELS]] as const) {
  useWebGpuKernels(kernels);
  log(`gpu-check: GPU path (tfjs ${backend}, ${name} kernels), batch ${cpuBatch}: the numeric check against the CPU path`);
  const same = await timeSteps(cpu.weights, cpuBatch, 1);
  checks[name] = deltas(same.timing);
  log(`  first loss ${same.timing.firstLoss.toFixed(5)}, after one Adam step ${same.timing.secondLoss.toFixed(5)} vs ${cpu.timing.secondLoss.toFixed(5)}: ${JSON.stringify(checks[name])}`);
}
report.nvidia_smi_during = nvidiaSmi();
// Before and after each kernel: tfjs as shipped, then ours added one at a time in WEBGPU_KERNELS' order.
const configurations = [[], ...WEBGPU_KERNELS.map((_, i) => WEBGPU_KERNELS.slice(0, i + 1))];
const rows: Array<{ kernels: string; batch: number; seconds_per_step: number; images_per_second: number; first_loss: number }> = [];
for (const kernels of args['profile-only'] ? [] : configurations) {
  useWebGpuKernels(kernels);
  for (const batch of gpuBatches) {
    const run = await timeSteps(cpu.weights, batch, Number(args['gpu-steps']));
    const label = kernels.length === 0 ? 'tfjs' : `+${kernels.at(-1)}`;
    rows.push({ kernels: label, batch, seconds_per_step: run.timing.secondsPerStep, images_per_second: run.timing.imagesPerSecond, first_loss: run.timing.firstLoss });
    log(`  ${label.padEnd(18)} batch ${batch}: ${run.timing.secondsPerStep.toFixed(3)} s/step, ${run.timing.imagesPerSecond.toPrecision(3)} img/s`);
  }
}
report.nvidia_smi_after = nvidiaSmi();
const profiles: Record<string, StepProfile> = {};
for (const [name, kernels] of [['tfjs', []], ['ours', DEFAULT_WEBGPU_KERNELS]] as const) {
  useWebGpuKernels(kernels);
  const run = await timeSteps(cpu.weights, gpuBatches[0]!, 1, profileStep);
  profiles[name] = run.profile!;
  log(`  profile, ${name} kernels, batch ${gpuBatches[0]}: ${run.profile!.dispatches} dispatches, ${run.profile!.gpu_ms.toFixed(0)} ms GPU; top: ${run.profile!.programs.slice(0, 4).map((p) => `${p.program} ${(p.share * 100).toFixed(0)} %`).join(', ')}`);
}
// The default set is a prefix of WEBGPU_KERNELS: its row is the one that added its last kernel.
const gpu = { before: rows.filter((r) => r.kernels === 'tfjs'), after: rows.filter((r) => r.kernels === `+${DEFAULT_WEBGPU_KERNELS.at(-1)}`) };
const strip = ({ inference: _i, ...t }: StepTiming) => t;
Object.assign(report, {
  backend,
  kernels: WEBGPU_KERNELS,
  default_kernels: DEFAULT_WEBGPU_KERNELS,
  cpu: strip(cpu.timing),
  checks,
  images_per_second: rows,
  before: gpu.before,
  after: gpu.after,
  speedup_by_batch: Object.fromEntries(gpuBatches.filter((b) => gpu.after.some((r) => r.batch === b)).map((b) => [b, gpu.after.find((r) => r.batch === b)!.images_per_second / gpu.before.find((r) => r.batch === b)!.images_per_second])),
  profiles,
  mixed_precision: 'not available: tfjs wasm and tfjs WebGPU train in float32 only',
});
const consistent = Object.values(checks).every((c) => c.first_loss_abs_delta < 1e-3 && c.inference_max_abs_delta < 1e-3);
const ok = backend !== 'wasm' && consistent && (gpu.after.length > 0 || args['profile-only']);
report.ok = ok;
const json = JSON.stringify(report, null, 2);
if (args.json) writeFileSync(args.json, `${json}\n`);
process.stdout.write(`${json}\n`);
log(ok ? `gpu-check: OK — ours ${gpu.after.map((r) => `${r.images_per_second.toPrecision(3)} img/s at batch ${r.batch}`).join(', ')} (tfjs' kernels: ${gpu.before.map((r) => r.images_per_second.toFixed(1)).join(', ')})` : 'gpu-check: FAILED (see above)');
process.exit(ok ? 0 : 2);
