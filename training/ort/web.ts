/**
 * @module The pipeline's door to onnxruntime-web in Node: the wasm engine the Worker runs, with the Worker's
 * session options (src/ort/session-options.ts) and its default prepacking (src/config.ts).
 *
 * Why int8 models are measured here and not in onnxruntime-node: native ORT's U8S8 kernels on x86 without
 * VNNI multiply with `vpmaddubsw`, which sums pairs of u8×s8 products into int16 *with saturation*, so the
 * same int8 file scores differently from host to host (training/onnx/int8-exactness.test.ts shows the pair
 * sums that overflow). The wasm engine widens to int16 and accumulates in int32 (`i32x4.dot_i16x8_s`): exact on
 * every host, and what the edge computes.
 */
import * as ort from 'onnxruntime-web/wasm';
import { ConfigSchema } from '../../src/config.js';
import { ortSessionOptions, type ExternalData, type SessionOptions } from '../../src/ort/session-options.js';
import { wrapSession, type NodeSession } from './session.js';

/** The options a Worker deployed with the default vars creates its session with. */
export const WORKER_SESSION_OPTIONS: SessionOptions = { prepack: ConfigSchema.parse({}).ORT_PREPACK === '1' };

function configureEnv(): void {
  ort.env.wasm.numThreads = 1; // the Worker has no threads
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
}

/** An ORT-web wasm session (1 thread) with the same interface as the native one. */
export async function createWasmSession(model: Uint8Array, options: SessionOptions = WORKER_SESSION_OPTIONS, externalData?: ExternalData): Promise<NodeSession> {
  configureEnv();
  const session = await ort.InferenceSession.create(model, ortSessionOptions(options, externalData));
  return wrapSession(session, (data, dims) => new ort.Tensor('float32', data, dims));
}
