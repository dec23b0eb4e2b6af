/**
 * @module The Open Inference Protocol (KServe V2, REST): health, server and model metadata, readiness and
 * infer, each model route also under `/versions/{version}`, with errors in the protocol's `{"error": "<message>"}`
 * form. Infer takes a batch (BYTES [N] or FP32 [N, 3, H, W], N ≤ MAX_BATCH), scored one row at a time.
 */
import { createRoute, OpenAPIHono, z, type Hook } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { decodeLimits, readConfig } from '../config.js';
import type { Manifest } from '../core/manifest.js';
import { cappedBody } from '../http/capped-json.js';
import { requireApiKey } from '../http/auth.js';
import { ApiError, errorFacts, isRequestFault, setRetryAfter } from '../http/errors.js';
import { requireModel } from '../http/model.js';
import { describeIssues } from '../http/openapi.js';
import type { AppEnv } from '../http/types.js';
import { scoreImage, scoreTensor } from '../model/classify.js';
import { ModelUnavailableError, readManifest } from '../model/store.js';
import {
  V2ErrorSchema,
  V2InferRequestSchema,
  type V2InferRequest,
  V2InferResponseSchema,
  V2LiveSchema,
  V2ModelMetadataSchema,
  V2ModelReadySchema,
  V2ReadySchema,
  V2ServerMetadataSchema,
} from '../v2/schemas.js';
import { buildOutputs, IMAGE_INPUT, LABELS_OUTPUT, readModelInputs, requestedOutputs } from '../v2/tensors.js';

export const SERVER_NAME = 'edge-resnet';
export const SERVER_VERSION = '1.0.0';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const v2Errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, json(V2ErrorSchema, 'Error')]));
const ModelParams = z.object({ name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'resnet50-shapes' }) });
const VersionedParams = ModelParams.extend({ version: z.string().openapi({ param: { name: 'version', in: 'path' }, example: '1.8.0' }) });

const invalidRequest: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
  if (!result.success) return c.json({ error: describeIssues(result.error.issues) }, 400);
};

/** 404 in the protocol's form unless `name` (and `version`, when the path has one) is the served model's. */
function checkName(manifest: Manifest, name: string, version?: string): Manifest {
  if (manifest.name !== name) throw new ApiError(404, 'model_not_found', `no model named "${name}"; this server serves "${manifest.name}"`);
  if (version !== undefined && version !== manifest.version) {
    throw new ApiError(404, 'model_not_found', `model "${name}" has no version "${version}"; this server serves version "${manifest.version}"`);
  }
  return manifest;
}

type ModelPath = { name: string; version?: string };

/** The served model's manifest, for metadata routes (from R2: no session needed). */
const namedModel = async (c: Context<AppEnv>, { name, version }: ModelPath) => checkName(await readManifest(c.env.MODELS), name, version);

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
};

/** A model route at `/v2/models/{name}…` and at `/v2/models/{name}/versions/{version}…`. */
const modelRoutes = (suffix: string, summary: string) => ({
  latest: { path: `/v2/models/{name}${suffix}`, params: ModelParams, summary },
  versioned: { path: `/v2/models/{name}/versions/{version}${suffix}`, params: VersionedParams, summary: `${summary} (a given version)` },
});

const metadataRoute = ({ path, params, summary }: { path: string; params: typeof ModelParams | typeof VersionedParams; summary: string }) =>
  createRoute({ method: 'get', path, tags, summary, request: { params }, responses: { 200: json(V2ModelMetadataSchema, 'Model metadata'), ...v2Errors(404, 503) } });
const readyRoute = ({ path, params, summary }: { path: string; params: typeof ModelParams | typeof VersionedParams; summary: string }) =>
  createRoute({
    method: 'get',
    path,
    tags,
    summary,
    request: { params },
    responses: { 200: json(V2ModelReadySchema, 'Ready'), 503: json(V2ModelReadySchema, 'Not ready'), ...v2Errors(404) },
  });
const inferRoute = ({ path, params, summary }: { path: string; params: typeof ModelParams | typeof VersionedParams; summary: string }) =>
  createRoute({
    method: 'post',
    path,
    tags,
    summary,
    security: [{ apiKey: [] }],
    middleware: [requireApiKey, cappedBody] as const,
    request: { params, body: { content: { 'application/json': { schema: V2InferRequestSchema } }, required: true } },
    responses: { 200: json(V2InferResponseSchema, 'Outputs: probabilities (FP32 [N, C]) and labels (BYTES [N, C])'), ...v2Errors(400, 401, 404, 413, 415, 422, 503) },
  });

const metadataPaths = modelRoutes('', 'Model metadata');
const readyPaths = modelRoutes('/ready', 'Model readiness');
const inferPaths = modelRoutes('/infer', 'Inference');

function metadata(manifest: Manifest) {
  const classes = manifest.labels.length;
  const [, ...item] = manifest.input.shape;
  // -1: the batch dimension, any size up to MAX_BATCH.
  return {
    name: manifest.name,
    versions: [manifest.version],
    platform: 'onnxruntime_onnx',
    inputs: [
      { name: IMAGE_INPUT, datatype: 'BYTES' as const, shape: [-1] },
      { name: manifest.input.name, datatype: 'FP32' as const, shape: [-1, ...item] },
    ],
    outputs: [
      { name: manifest.output.name, datatype: 'FP32' as const, shape: [-1, classes] },
      { name: LABELS_OUTPUT, datatype: 'BYTES' as const, shape: [-1, classes] },
    ],
  };
}

async function modelReady(c: Context<AppEnv>, path: ModelPath) {
  const { name } = await namedModel(c, path);
  return (await isReady(c)) ? c.json({ name, ready: true }, 200) : c.json({ name, ready: false }, 503);
}

async function infer(c: Context<AppEnv>, path: ModelPath, request: V2InferRequest) {
  const config = readConfig(c.env);
  // The loaded model's manifest (cached by the registry): no extra R2 read on the inference path.
  const model = await requireModel(c);
  checkName(model.manifest, path.name, path.version);
  const names = requestedOutputs(model.manifest, request.outputs);
  const inputs = readModelInputs(request, model.manifest, config.MAX_BATCH);
  const limits = decodeLimits(config);
  const rows: Float32Array[] = [];
  for (let i = 0; i < inputs.count; i++) {
    try {
      rows.push(inputs.kind === 'image' ? (await scoreImage(inputs.image(i), model, limits)).scores : await scoreTensor(inputs.row(i), model));
    } catch (err) {
      // The protocol has no per-row errors: a bad row fails the call, saying which row it was.
      if (inputs.count === 1 || !isRequestFault(err)) throw err;
      const facts = errorFacts(err);
      throw new ApiError(facts.status, facts.code, `element ${i} of ${inputs.count}: ${facts.message}`);
    }
  }
  return c.json(
    {
      model_name: model.manifest.name,
      model_version: model.manifest.version,
      ...(request.id === undefined ? {} : { id: request.id }),
      outputs: buildOutputs(rows, model.manifest, names),
    },
    200,
  );
}

export const v2 = new OpenAPIHono<AppEnv>({ defaultHook: invalidRequest })
  .openapi(routes.live, (c) => c.json({ live: true }, 200))
  .openapi(routes.ready, async (c) => ((await isReady(c)) ? c.json({ ready: true }, 200) : c.json({ ready: false }, 503)))
  .openapi(routes.server, (c) => c.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] }, 200))
  .openapi(metadataRoute(metadataPaths.latest), async (c) => c.json(metadata(await namedModel(c, c.req.valid('param'))), 200))
  .openapi(metadataRoute(metadataPaths.versioned), async (c) => c.json(metadata(await namedModel(c, c.req.valid('param'))), 200))
  .openapi(readyRoute(readyPaths.latest), (c) => modelReady(c, c.req.valid('param')))
  .openapi(readyRoute(readyPaths.versioned), (c) => modelReady(c, c.req.valid('param')))
  .openapi(inferRoute(inferPaths.latest), (c) => infer(c, c.req.valid('param'), c.req.valid('json')))
  .openapi(inferRoute(inferPaths.versioned), (c) => infer(c, c.req.valid('param'), c.req.valid('json')));

v2.onError((err, c) => {
  const facts = errorFacts(err);
  setRetryAfter(c, facts);
  return c.json({ error: facts.message }, facts.status);
});
