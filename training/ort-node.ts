/** @module The pipeline's only door to onnxruntime-node (native CPU): create a session, run it. */
import * as ort from 'onnxruntime-node';

export interface NodeSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** Runs on a batch of NCHW float32 inputs; returns every requested output as float32 with its dims. */
  run(input: Float32Array, dims: number[], outputs?: string[]): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>>;
  release(): Promise<void>;
}

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
  const inputName = session.inputNames[0];
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(input, dims, outputs) {
      const feeds = { [inputName]: new ort.Tensor('float32', input, dims) };
      const result = outputs ? await session.run(feeds, outputs) : await session.run(feeds);
      return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims }]));
    },
    release: () => session.release(),
  };
}
