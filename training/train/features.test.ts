/**
 * Stage 1's frozen features through onnxruntime-node's WebGPU provider (`--device gpu`) equal the CPU
 * provider's within float tolerance. Runs where that provider finds an adapter (a software Vulkan here: Mesa
 * llvmpipe, which .ci/run installs); skipped, saying so, where it does not, unless EDGE_RESNET_REQUIRE_SOFTWARE_GPU=1.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../data/random.js';
import { buildResNet50 } from '../network/resnet.js';
import { encodeModel } from '../onnx/proto.js';
import { exportToOnnx } from '../onnx/export.js';
import { useBackend } from '../tf/backend.js';
import { RECIPE_AUGMENTATION } from './augment.js';
import { computeFeatures } from './features.js';
import { freezeLayers, splitAtFrozenBoundary } from './freeze.js';

const size = 32;
await useBackend('wasm');
const model = buildResNet50({ inputSize: size, classes: 3, seed: 5 });
freezeLayers(model, 150);
const { prefix, frontier } = splitAtFrozenBoundary(model, 150);

/** Why the WebGPU provider cannot run here, or null when it can. */
async function webGpuProvider(): Promise<string | null> {
  try {
    const session = await ort.InferenceSession.create(encodeModel(exportToOnnx(prefix)), { executionProviders: ['webgpu'], logSeverityLevel: 3 });
    await session.release();
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}
const unavailable = await webGpuProvider();
if (unavailable) {
  const message = `onnxruntime-node's WebGPU provider found no adapter (${unavailable}); install Mesa's llvmpipe: apt-get install -t bookworm-backports mesa-vulkan-drivers`;
  if (process.env.EDGE_RESNET_REQUIRE_SOFTWARE_GPU === '1') throw new Error(`${message} [EDGE_RESNET_REQUIRE_SOFTWARE_GPU=1]`);
  console.warn(`skipped: ${message}`);
}

const dir = await mkdtemp(join(tmpdir(), 'edge-resnet-features-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(unavailable !== null)('frozen features on the GPU (onnxruntime-node WebGPU provider)', () => {
  it('equal the CPU provider’s within 1e-4 of their largest value, for every image, plain and augmented', async () => {
    const random = seededRandom(3);
    const tensors = Array.from({ length: 4 }, () => Float32Array.from({ length: 3 * size * size }, () => random.uniform(-100, 100)));
    const features = async (provider: 'cpu' | 'webgpu', augment: boolean) => {
      const file = join(dir, `${provider}-${augment}.f32`);
      const cache = await computeFeatures({ prefix, frontier, tensors, width: size, height: size, augment: augment ? RECIPE_AUGMENTATION : null, random: seededRandom(8), file, provider });
      expect(cache.count).toBe(tensors.length);
      const bytes = await readFile(file);
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    };
    for (const augment of [false, true]) {
      const cpu = await features('cpu', augment);
      const gpu = await features('webgpu', augment);
      expect(gpu.length).toBe(cpu.length);
      let max = 0;
      let scale = 0;
      cpu.forEach((v, i) => ((max = Math.max(max, Math.abs(v - gpu[i]!))), (scale = Math.max(scale, Math.abs(v)))));
      expect(scale).toBeGreaterThan(0);
      console.log(`features${augment ? ', augmented' : ''}: max |Δ| ${max.toExponential(2)} of max ${scale.toFixed(3)}`);
      expect(max / scale).toBeLessThan(1e-4);
    }
  });
});
