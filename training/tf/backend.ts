/**
 * @module The one place the pipeline sets up TensorFlow.js: gradients, our missing wasm kernels, the backend.
 * `cpu` means tfjs' wasm backend (XNNPACK, SIMD) with our conv gradient kernels; `gpu` means
 * tfjs-node-gpu's CUDA backend when the user installed that package, else WebGPU through Dawn (the `webgpu`
 * package: Vulkan on Linux, Metal on macOS, D3D12 on Windows) on a hardware adapter. `auto` takes a GPU
 * when there is one and the CPU otherwise.
 */
// The union package registers every gradient and the cpu backend; its ESM sub-packages cannot be imported
// piecemeal under Node (directory imports).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerConvGradientKernels } from './conv-gradient-kernels.js';
import { registerColumnConvForward } from './conv2d-forward.js';
import { registerFastTransposes } from './fast-transpose.js';

export type TfBackendName = 'wasm' | 'cpu';
export const DEVICE_CHOICES = ['auto', 'cpu', 'gpu'] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** Dawn's adapter type: 'discrete GPU', 'integrated GPU', 'CPU' or 'unknown'. */
  type: string;
  backend: string;
}

/** Software rasterisers that Dawn may offer as an adapter: they are not a GPU. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|software|basic render/i;

type DawnAdapter = { info?: Record<string, unknown>; features: Set<string> };

type RawAdapter = DawnAdapter & { requestDevice(d?: { requiredFeatures?: unknown[] }): Promise<unknown> };
type RawGpu = { requestAdapter(o?: object): Promise<RawAdapter | null> };

/**
 * tfjs-backend-webgpu 4.22 asks for `requiredFeatures: [..., ['bgra8unorm-storage']]` (an array inside the
 * list; browsers stringify it, Dawn's Node binding may not): hand Dawn a flat list.
 */
function withFlatFeatureList(gpu: RawGpu): RawGpu {
  return {
    requestAdapter: async (options) => {
      const adapter = await gpu.requestAdapter(options);
      if (!adapter) return null;
      const requestDevice = adapter.requestDevice.bind(adapter);
      return new Proxy(adapter, {
        get: (target, key) => {
          if (key === 'requestDevice') return (d?: { requiredFeatures?: unknown[] }) => requestDevice(d && { ...d, requiredFeatures: d.requiredFeatures?.flat() });
          const value = Reflect.get(target, key, target) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}

/** Looks for a hardware WebGPU adapter through Dawn; null when none (or the package cannot load). */
export async function findHardwareGpu(log: (s: string) => void = () => {}): Promise<GpuAdapterInfo | null> {
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch (e) {
    log(`gpu: the webgpu package is not usable here (${(e as Error).message.split('\n')[0]})`);
    return null;
  }
  Object.assign(globalThis, dawn.globals);
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    const gpu = withFlatFeatureList(dawn.create([]) as unknown as RawGpu);
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  }
  const gpu = g.navigator!.gpu as { requestAdapter(o: object): Promise<DawnAdapter | null> };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const result: GpuAdapterInfo = {
    vendor: String(info.vendor ?? ''),
    architecture: String(info.architecture ?? ''),
    description: String(info.description ?? ''),
    type: String(info.adapterType ?? info.type ?? 'unknown'),
    backend: String(info.backendType ?? ''),
  };
  const software = info.isFallbackAdapter === true || /cpu/i.test(result.type) || SOFTWARE_ADAPTER.test(`${result.description} ${result.architecture}`);
  // Tests may run the GPU code path on a software Vulkan (lavapipe); real runs never choose one.
  if (software && process.env.EDGE_RESNET_ALLOW_SOFTWARE_GPU === '1') {
    log(`gpu: using the software adapter ${result.description || result.type} (EDGE_RESNET_ALLOW_SOFTWARE_GPU=1)`);
    return result;
  }
  if (software) {
    log(`gpu: only a software adapter (${result.description || result.type}); not using it`);
    return null;
  }
  return result;
}

/** tfjs-node-gpu's CUDA backend, when the user installed it (it is not a dependency: it downloads libtensorflow). */
async function tryTfjsNodeGpu(): Promise<boolean> {
  try {
    await import(/* optional */ '@tensorflow/tfjs-node-gpu' as string);
    return tf.findBackendFactory('tensorflow') !== null && (await tf.setBackend('tensorflow'));
  } catch {
    return false;
  }
}

/** Adam for the WebGPU backend (webgpu/adam.ts), set once that backend is in use. */
let webGpuAdam: ((learningRate: number) => tf.Optimizer) | null = null;

/**
 * `EDGE_RESNET_WEBGPU_KERNELS`: which of our WebGPU kernels run (webgpu/register.ts): unset for the default set,
 * `all`, `none` (tfjs as shipped), or a comma-separated list of filter-gradient, batch-norm, adam, input-gradient.
 */
export function webGpuKernelsFromEnv<K extends string>(all: readonly K[], defaults: readonly K[], value = process.env.EDGE_RESNET_WEBGPU_KERNELS): K[] {
  if (value === undefined || value === '') return [...defaults];
  if (value === 'all') return [...all];
  if (value === 'none') return [];
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !all.includes(n as K));
  if (unknown.length > 0) throw new Error(`EDGE_RESNET_WEBGPU_KERNELS: unknown ${unknown.join(', ')} (known: ${all.join(', ')}, all, none)`);
  return names as K[];
}

async function useWebGpu(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-webgpu'); // registers only once navigator.gpu exists
  if (!(tf.findBackendFactory('webgpu') !== null && (await tf.setBackend('webgpu')))) return false;
  const kernels = await import('./webgpu/register.js');
  kernels.useWebGpuKernels(webGpuKernelsFromEnv(kernels.WEBGPU_KERNELS, kernels.DEFAULT_WEBGPU_KERNELS));
  webGpuAdam = kernels.adamFor;
  return true;
}

/** Adam with tf.train.adam's rule and state, as fast as the current backend allows. */
export const createAdam = (learningRate: number): tf.Optimizer => (tf.getBackend() === 'webgpu' && webGpuAdam ? webGpuAdam(learningRate) : tf.train.adam(learningRate));

/** Selects a tfjs backend by name (the wasm one with our gradient kernels) and returns its name. */
export async function useBackend(name: TfBackendName = 'wasm'): Promise<string> {
  if (name === 'wasm') {
    registerConvGradientKernels('wasm');
    registerFastTransposes('wasm');
    registerColumnConvForward('wasm');
  }
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} could not be initialised`);
  await tf.ready();
  return tf.getBackend();
}

/** `--device`: a GPU backend for 'gpu' (or 'auto' when one is found), else the wasm backend. Returns the tfjs name. */
export async function selectDevice(choice: DeviceChoice, log: (s: string) => void = () => {}): Promise<string> {
  if (choice !== 'cpu') {
    if (await tryTfjsNodeGpu()) return tf.getBackend();
    const adapter = await findHardwareGpu(log);
    if (adapter && (await useWebGpu())) {
      await tf.ready();
      log(`gpu: WebGPU on ${adapter.description || adapter.vendor} (${adapter.type}, ${adapter.backend})`);
      return tf.getBackend();
    }
    if (choice === 'gpu') throw new Error('--device gpu: no GPU found (no tfjs-node-gpu, and Dawn offers no hardware WebGPU adapter); use --device auto or cpu');
  }
  return useBackend('wasm');
}

export { tf };
