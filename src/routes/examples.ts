/**
 * @module GET /v1/examples and /v1/examples/{sha256}: a few images of what the served model knows (its
 * manifest's `examples`, from its own test split for the default model), so a first visitor can try it on
 * something it was built for. Each image is content-addressed and verified like the model.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../http/errors.js';
import { createRouter } from '../http/openapi.js';
import { errorResponses, ExamplesSchema } from '../http/schemas.js';
import { readExample, readManifest } from '../model/store.js';

const list = createRoute({
  method: 'get',
  path: '/v1/examples',
  tags: ['Classification'],
  summary: 'Example images of what the served model knows, each with its true label',
  responses: { 200: { description: 'The examples (an empty list when the manifest has none)', content: { 'application/json': { schema: ExamplesSchema } } }, ...errorResponses([503]) },
});

const image = createRoute({
  method: 'get',
  path: '/v1/examples/{sha256}',
  tags: ['Classification'],
  summary: 'One example image (immutable: addressed by its sha256)',
  request: { params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/).openapi({ param: { name: 'sha256', in: 'path' } }) }) },
  responses: {
    200: { description: 'The image', content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } }, 'image/png': { schema: { type: 'string', format: 'binary' } } } },
    ...errorResponses([400, 404, 503]),
  },
});

/** JPEG or PNG, from the magic bytes (the pipeline writes only these). */
const contentType = (bytes: Uint8Array) => (bytes[0] === 0x89 && bytes[1] === 0x50 ? 'image/png' : 'image/jpeg');

export const examples = createRouter()
  .openapi(list, async (c) => {
    const manifest = await readManifest(c.env.MODELS);
    return c.json({ model: { name: manifest.name, version: manifest.version, sha256: manifest.sha256 }, labels: manifest.labels, examples: (manifest.examples ?? []).map((e) => ({ label: e.label, url: `/v1/examples/${e.sha256}`, bytes: e.bytes })) }, 200);
  })
  .openapi(image, async (c) => {
    const { sha256 } = c.req.valid('param');
    const manifest = await readManifest(c.env.MODELS);
    const ref = manifest.examples?.find((e) => e.sha256 === sha256);
    if (!ref) throw new ApiError(404, 'not_found', 'the served model has no example with this sha256');
    const bytes = await readExample(c.env.MODELS, ref);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': contentType(bytes), 'cache-control': 'public, max-age=31536000, immutable' });
  });
