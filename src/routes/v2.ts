/**
 * @module The Open Inference Protocol (KServe V2, REST): health, server and model metadata, readiness and
 * infer, with errors in the protocol's `{"error": "<message>"}` form.
 */
import { createRoute, OpenAPIHono, z, type Hook } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { decodeLimits, readConfig } from '../config.js';
import type { Manifest } from '../core/manifest.js';
import { cappedBody } from '../http/capped-json.js';
import { requireApiKey } from '../http/auth.js';
import { ApiError, errorFacts, setRetryAfter } from '../http/errors.js';
import { requireModel } from '../http/model.js';
import { describeIssues } from '../http/openapi.js';
import type { AppEnv } from '../http/types.js';
import { scoreImage, scoreTensor } from '../model/classify.js';
import { ModelUnavailableError, readManifest } from '../model/store.js';
import {
  V2ErrorSchema,
  V2InferRequestSchema,
  V2InferResponseSchema,
  V2LiveSchema,
  V2ModelMetadataSchema,
  V2ModelReadySchema,
  V2ReadySchema,
  V2ServerMetadataSchema,
} from '../v2/schemas.js';
import { buildOutputs, readModelInput } from '../v2/tensors.js';

export const SERVER_NAME = 'edge-resnet';
export const SERVER_VERSION = '1.0.0';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const v2Errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, json(V2ErrorSchema, 'Error')]));
const ModelParams = z.object({ name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'resnet50-shapes' }) });

const invalidRequest: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
  if (!result.success) return c.json({ error: describeIssues(result.error.issues) }, 400);
};

/** 404 in the protocol's form unless `name` is the served model's. */
function checkName(manifest: Manifest, name: string): Manifest {
  if (manifest.name !== name) throw new ApiError(404, 'model_not_found', `no model named "${name}"; this server serves "${manifest.name}"`);
  return manifest;
}

/** The served model's manifest, for metadata routes (from R2: no session needed). */
const namedModel = async (c: Context<AppEnv>, name: string) => checkName(await readManifest(c.env.MODELS), name);

/** Ready means the session exists or can be created now. */
async function isReady(c: Context<AppEnv>): Promise<boolean> {
  try {
    await requireModel(c);
    return true;
  } catch (e) {
    if (e instanceof ModelUnavailableError) return false;
    throw e;
  }
}

const tags = ['Open Inference Protocol (KServe V2)'];
const routes = {
  live: createRoute({ method: 'get', path: '/v2/health/live', tags, summary: 'Server liveness', responses: { 200: json(V2LiveSchema, 'Live') } }),
  ready: createRoute({ method: 'get', path: '/v2/health/ready', tags, summary: 'Server readiness', responses: { 200: json(V2ReadySchema, 'Ready'), 503: json(V2ReadySchema, 'Not ready') } }),
  server: createRoute({ method: 'get', path: '/v2', tags, summary: 'Server metadata', responses: { 200: json(V2ServerMetadataSchema, 'Server metadata') } }),
  model: createRoute({
    method: 'get',
    path: '/v2/models/{name}',
    tags,
    summary: 'Model metadata',
    request: { params: ModelParams },
    responses: { 200: json(V2ModelMetadataSchema, 'Model metadata'), ...v2Errors(404, 503) },
  }),
  modelReady: createRoute({
    method: 'get',
    path: '/v2/models/{name}/ready',
    tags,
    summary: 'Model readiness',
    request: { params: ModelParams },
    responses: { 200: json(V2ModelReadySchema, 'Ready'), 503: json(V2ModelReadySchema, 'Not ready'), ...v2Errors(404) },
  }),
  infer: createRoute({
    method: 'post',
    path: '/v2/models/{name}/infer',
    tags,
    summary: 'Inference',
    security: [{ apiKey: [] }],
    middleware: [requireApiKey, cappedBody] as const,
    request: { params: ModelParams, body: { content: { 'application/json': { schema: V2InferRequestSchema } }, required: true } },
    responses: { 200: json(V2InferResponseSchema, 'Outputs: probabilities (FP32 [1, N]) and labels (BYTES [1, N])'), ...v2Errors(400, 401, 404, 413, 415, 422, 503) },
  }),
};

export const v2 = new OpenAPIHono<AppEnv>({ defaultHook: invalidRequest })
  .openapi(routes.live, (c) => c.json({ live: true }, 200))
  .openapi(routes.ready, async (c) => ((await isReady(c)) ? c.json({ ready: true }, 200) : c.json({ ready: false }, 503)))
  .openapi(routes.server, (c) => c.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] }, 200))
  .openapi(routes.model, async (c) => {
    const manifest = await namedModel(c, c.req.valid('param').name);
    return c.json(
      {
        name: manifest.name,
        versions: [manifest.version],
        platform: 'onnxruntime_onnx',
        inputs: [
          { name: 'image', datatype: 'BYTES' as const, shape: [1] },
          { name: manifest.input.name, datatype: 'FP32' as const, shape: [...manifest.input.shape] },
        ],
        outputs: [
          { name: manifest.output.name, datatype: 'FP32' as const, shape: [1, manifest.labels.length] },
          { name: 'labels', datatype: 'BYTES' as const, shape: [1, manifest.labels.length] },
        ],
      },
      200,
    );
  })
  .openapi(routes.modelReady, async (c) => {
    const { name } = await namedModel(c, c.req.valid('param').name);
    return (await isReady(c)) ? c.json({ name, ready: true }, 200) : c.json({ name, ready: false }, 503);
  })
  .openapi(routes.infer, async (c) => {
    const request = c.req.valid('json');
    // The loaded model's manifest (cached by the registry): no extra R2 read on the inference path.
    const model = await requireModel(c);
    checkName(model.manifest, c.req.valid('param').name);
    const input = readModelInput(request, model.manifest);
    const scores = input.kind === 'image' ? (await scoreImage(input.bytes, model, decodeLimits(readConfig(c.env)))).scores : await scoreTensor(input.data, model);
    return c.json(
      {
        model_name: model.manifest.name,
        model_version: model.manifest.version,
        ...(request.id === undefined ? {} : { id: request.id }),
        outputs: buildOutputs(scores, model.manifest, request.outputs),
      },
      200,
    );
  });

v2.onError((err, c) => {
  const facts = errorFacts(err);
  setRetryAfter(c, facts);
  return c.json({ error: facts.message }, facts.status);
});
