/** How our WebGPU reductions split their work (no GPU needed), and the kernel choice from the environment. */
import { describe, expect, it } from 'vitest';
import { webGpuKernelsFromEnv } from '../backend.js';
import { rowSplit } from './batch-norm.js';
import { splitK } from './filter-gradient.js';

describe('split-K of the filter gradient', () => {
  // ResNet50 at 224 px, batch 32: conv1 (m = 32·112², K = 147, 64 out), conv2 3×3, conv5 3×3, a batch of 1.
  for (const [m, k, o] of [[32 * 112 * 112, 147, 64], [32 * 56 * 56, 576, 64], [32 * 7 * 7, 4608, 512], [49, 4608, 512], [1, 27, 2]]) {
    it(`m ${m}, K ${k}, O ${o}: chunks of whole 16-row slabs that cover m exactly once`, () => {
      const { splits, chunk } = splitK(m!, k!, o!);
      expect(chunk % 16).toBe(0);
      expect(splits * chunk).toBeGreaterThanOrEqual(m!);
      expect((splits - 1) * chunk).toBeLessThan(m!);
      // About 1,024 workgroups (a large GPU's fill; rounding chunks to whole slabs loses a few) where m allows it,
      // and never a chunk under 256 rows unless m itself is.
      const workgroups = splits * Math.ceil(k! / 64) * Math.ceil(o! / 64);
      if (m! >= 256 * 1024) expect(workgroups).toBeGreaterThanOrEqual(1000);
      if (splits > 1) expect(chunk).toBeGreaterThanOrEqual(256);
    });
  }
});

describe('row split of the batch-norm reductions', () => {
  for (const [rows, columns] of [[32 * 112 * 112, 64], [32 * 7 * 7, 2048], [8, 2048], [200_003, 3]]) {
    it(`[${rows}, ${columns}]: chunks cover the rows exactly once, at least 32 rows each when split`, () => {
      const { splits, chunk } = rowSplit(rows!, columns!);
      expect(splits * chunk).toBeGreaterThanOrEqual(rows!);
      expect((splits - 1) * chunk).toBeLessThan(rows!);
      if (splits > 1) expect(chunk).toBeGreaterThanOrEqual(32);
    });
  }
});

describe('EDGE_RESNET_WEBGPU_KERNELS', () => {
  const all = ['filter-gradient', 'batch-norm', 'adam', 'input-gradient'] as const;
  const defaults = all.slice(0, 3);
  it('the default set when unset; every one for "all"; none for "none"; a list as given; an unknown name is refused', () => {
    expect(webGpuKernelsFromEnv(all, defaults, undefined)).toEqual(defaults);
    expect(webGpuKernelsFromEnv(all, defaults, '')).toEqual(defaults);
    expect(webGpuKernelsFromEnv(all, defaults, 'all')).toEqual([...all]);
    expect(webGpuKernelsFromEnv(all, defaults, 'none')).toEqual([]);
    expect(webGpuKernelsFromEnv(all, defaults, 'adam, filter-gradient')).toEqual(['adam', 'filter-gradient']);
    expect(() => webGpuKernelsFromEnv(all, defaults, 'adam,fused-everything')).toThrow(/unknown fused-everything/);
  });
});
