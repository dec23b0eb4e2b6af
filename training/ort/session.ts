/** @module One session interface over both onnxruntime packages the pipeline uses (native and wasm). */

export interface NodeSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** Runs on a batch of NCHW float32 inputs; returns every requested output as float32 with its dims. */
  run(input: Float32Array, dims: number[], outputs?: string[]): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>>;
  release(): Promise<void>;
}

interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose(): void;
}

/** What both onnxruntime-node's and onnxruntime-web's InferenceSession offer (their Tensor classes differ). */
interface OrtSessionLike<T> {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, T>): Promise<Record<string, OrtTensorLike>>;
  run(feeds: Record<string, T>, fetches: string[]): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** Wraps an ORT session: one float32 input, outputs copied out of ORT's buffers (then disposed). */
export function wrapSession<T>(session: OrtSessionLike<T>, tensor: (data: Float32Array, dims: number[]) => T): NodeSession {
  const inputName = session.inputNames[0]!;
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(input, dims, outputs) {
      const feeds = { [inputName]: tensor(input, dims) };
      const result = outputs ? await session.run(feeds, outputs) : await session.run(feeds);
      const copied = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, { data: Float32Array.from(v.data as Float32Array), dims: v.dims }]));
      for (const t of Object.values(result)) t.dispose();
      return copied;
    },
    release: () => session.release(),
  };
}
