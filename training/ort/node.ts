/** @module The pipeline's only door to onnxruntime-node (native CPU, or its bundled WebGPU provider): create a session, run it. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { wrapSession, type NodeSession } from './session.js';

export type { NodeSession } from './session.js';

export interface NodeSessionOptions {
  threads?: number;
  /** Skip graph optimisations (e.g. to read intermediate tensors exactly as the graph states them). */
  optimize?: boolean;
  /** Where the graph runs: the CPU (default) or the WebGPU execution provider onnxruntime-node bundles (Dawn). */
  provider?: 'cpu' | 'webgpu';
}

export async function createNodeSession(model: Uint8Array | string, options: NodeSessionOptions = {}): Promise<NodeSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: options.optimize === false ? 'disabled' : 'all',
    executionProviders: [options.provider ?? 'cpu'],
  };
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, sessionOptions) : await ort.InferenceSession.create(model, sessionOptions);
  return wrapSession(session, (data, dims) => new ort.Tensor('float32', data, dims));
}

/** The onnxruntime-node release that pre-optimises models (named in the manifest beside its output). */
export const ORT_NODE_VERSION = `onnxruntime-node ${ort.env.versions.common}`;

/**
 * `model` as onnxruntime saves it after its graph optimisations at `level` (QDQ fusion into QLinearConv / QGemm,
 * NHWC layout for the int8 convolutions…). What it saves depends on the host's ORT build, so callers check it.
 */
export async function saveOptimisedModel(model: Uint8Array, level: 'extended' | 'all'): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-resnet-optimised-'));
  try {
    const file = join(dir, 'optimised.onnx');
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: level, optimizedModelFilePath: file, logSeverityLevel: 3 });
    await session.release();
    return new Uint8Array(await readFile(file));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
