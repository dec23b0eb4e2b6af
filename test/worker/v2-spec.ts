/**
 * The Open Inference Protocol's REST response objects, written from KServe's published spec
 * (`rest_predict_v2.yaml`, the `components/schemas` section) and not from our own schemas, so that a response
 * our code and our schemas agree on but the protocol does not still fails. Required fields as the spec marks
 * them; our answers must also carry no field the spec does not name (`.strict()`), since clients generated from
 * the spec may reject them.
 */
import { z } from 'zod';

const datatype = z.enum(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']);
type TensorData = Array<TensorData | number | string | boolean>;
const tensorData: z.ZodType<TensorData> = z.lazy(() => z.array(z.union([tensorData, z.number(), z.string(), z.boolean()])));
const parameters = z.record(z.string(), z.unknown());

const metadataTensor = z.object({ name: z.string(), datatype, shape: z.array(z.number().int()) }).strict();
const responseOutput = z.object({ name: z.string(), shape: z.array(z.number().int()), datatype, parameters: parameters.optional(), data: tensorData }).strict();

export const V2Spec = {
  serverLive: z.object({ live: z.boolean() }).strict(),
  serverReady: z.object({ ready: z.boolean() }).strict(),
  modelReady: z.object({ name: z.string(), ready: z.boolean() }).strict(),
  serverMetadata: z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) }).strict(),
  modelMetadata: z
    .object({ name: z.string(), versions: z.array(z.string()).optional(), platform: z.string(), inputs: z.array(metadataTensor), outputs: z.array(metadataTensor) })
    .strict(),
  inferenceResponse: z
    .object({ model_name: z.string(), model_version: z.string().optional(), id: z.string().optional(), parameters: parameters.optional(), outputs: z.array(responseOutput) })
    .strict(),
  /** Every error object of the spec (server, model metadata, readiness, inference) is this one shape. */
  error: z.object({ error: z.string() }).strict(),
};

/** The spec's schema for an answer of `method path` with `status`: a success object by route, or the error object. */
export function v2SpecSchemaFor(method: string, path: string, status: number): z.ZodType {
  if (status >= 400) return V2Spec.error;
  if (path === '/v2/health/live') return V2Spec.serverLive;
  if (path === '/v2/health/ready') return V2Spec.serverReady;
  if (path === '/v2') return V2Spec.serverMetadata;
  if (method === 'POST' && path.endsWith('/infer')) return V2Spec.inferenceResponse;
  if (path.endsWith('/ready')) return V2Spec.modelReady;
  return V2Spec.modelMetadata;
}

/** Parses a V2 answer against the spec (throws with zod's issues when it does not conform) and returns its body. */
export async function conformsToV2Spec(method: string, path: string, res: Response): Promise<unknown> {
  const body: unknown = await res.clone().json();
  const result = v2SpecSchemaFor(method, path, res.status).safeParse(body);
  if (!result.success) throw new Error(`${method} ${path} → ${res.status} does not conform to the V2 spec: ${JSON.stringify(result.error.issues)}\n${JSON.stringify(body).slice(0, 400)}`);
  return body;
}
