/** @module Builds a manifest for a quantized model file (validated against the shared schema). */
import { MANIFEST_SCHEMA_VERSION, parseManifest, type Manifest } from '../../src/core/manifest.js';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';
import type { QuantizationSummary } from '../onnx/quantize.js';

export interface ManifestInput {
  name: string;
  version: string;
  file: string;
  bytes: Uint8Array;
  sha256: string;
  preprocess: PreprocessSpec;
  labels: string[];
  quantization: QuantizationSummary | null;
  metrics: Record<string, number | string>;
  outputKind?: 'probabilities' | 'logits';
  inputName?: string;
  outputName?: string;
  reference?: Manifest['reference'];
  /** The split form the Worker loads (training/onnx/external-data.ts). */
  externalData?: Manifest['externalData'];
  /** Images of what the model knows, with their labels, in the model folder (served to the web page). */
  examples?: Manifest['examples'];
  /** `resnet50` (default), `resnet101`, `resnet152`. */
  architecture?: string;
  /** GMAC, widths and where a pruned network came from (model-folder/network.ts). */
  network?: Manifest['network'];
}

export function buildManifest(m: ManifestInput): Manifest {
  return parseManifest({
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    name: m.name,
    version: m.version,
    architecture: m.architecture ?? 'resnet50',
    file: m.file,
    sha256: m.sha256,
    bytes: m.bytes.byteLength,
    createdAt: new Date().toISOString(),
    input: { name: m.inputName ?? 'input', shape: [1, 3, m.preprocess.height, m.preprocess.width], layout: 'NCHW', dtype: 'float32' },
    output: { name: m.outputName ?? 'probabilities', kind: m.outputKind ?? 'probabilities' },
    preprocess: m.preprocess,
    labels: m.labels,
    quantization: m.quantization && {
      format: 'QDQ',
      weights: 'int8 symmetric per-channel',
      activations: 'uint8 asymmetric per-tensor',
      bias: 'int32',
      calibration: { method: m.quantization.method, images: m.quantization.calibrationImages },
    },
    metrics: m.metrics,
    ...(m.reference ? { reference: m.reference } : {}),
    ...(m.externalData ? { externalData: m.externalData } : {}),
    ...(m.examples?.length ? { examples: m.examples } : {}),
    ...(m.network ? { network: m.network } : {}),
  });
}
