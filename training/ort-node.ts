/** @module The pipeline's only door to onnxruntime-node (native CPU): create a session, run it. */
import * as ort from 'onnxruntime-node';
import { wrapSession, type NodeSession } from './ort-session.js';

export type { NodeSession } from './ort-session.js';

export interface NodeSessionOptions {
  threads?: number;
  /** Skip graph optimisations (e.g. to read intermediate tensors exactly as the graph states them). */
  optimize?: boolean;
}

export async function createNodeSession(model: Uint8Array | string, options: NodeSessionOptions = {}): Promise<NodeSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: options.optimize === false ? 'disabled' : 'all',
  };
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, sessionOptions) : await ort.InferenceSession.create(model, sessionOptions);
  return wrapSession(session, (data, dims) => new ort.Tensor('float32', data, dims));
}
