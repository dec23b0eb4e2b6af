/**
 * @module The Worker's onnxruntime-web session options, in one place. The Worker creates its sessions with
 * them, and the pipeline measures every int8 model with them (training/ort/web.ts): the same wasm engine with
 * the same options computes the same numbers in workerd and in Node, on any host CPU.
 */
import type { InferenceSession } from 'onnxruntime-web';

export interface SessionOptions {
  /** ORT's weight prepacking: faster kernels for ~14 MB more wasm heap on ResNet50 int8 (FIELD-NOTES). */
  prepack: boolean;
  /**
   * The graph was saved after ORT's own optimisations (the pipeline's pre-optimised form): the session skips
   * them. They are work on code a new isolate runs unoptimised, so a cold start pays for them twice.
   */
  preOptimised?: boolean;
}

/** An ONNX external-data file in memory: `path` is the location the graph names it by. */
export interface ExternalData {
  path: string;
  data: Uint8Array;
}

export function ortSessionOptions(options: SessionOptions, externalData?: ExternalData): InferenceSession.SessionOptions {
  return {
    executionProviders: ['wasm'],
    graphOptimizationLevel: options.preOptimised ? 'disabled' : 'all',
    extra: options.prepack ? {} : { session: { disable_prepacking: '1' } },
    ...(externalData ? { externalData: [externalData] } : {}),
  };
}
