/** @module The manifest's `network` field: what one image costs (GMAC), the widths of every bottleneck and stream. */
import type { Manifest } from '../../src/core/manifest.js';
import type { ResNetDescription } from '../network/description.js';
import { gmacOf } from '../network/macs.js';

export type PrunedFrom = NonNullable<NonNullable<Manifest['network']>['prunedFrom']>;

export function networkSummary(d: ResNetDescription, prunedFrom?: PrunedFrom): NonNullable<Manifest['network']> {
  return {
    gmac: gmacOf(d),
    widths: d.stages.map((s) => s.blocks.map((b) => [b.reduce, b.spatial] as [number, number])),
    streams: d.stages.map((s) => s.width),
    ...(prunedFrom ? { prunedFrom } : {}),
  };
}
