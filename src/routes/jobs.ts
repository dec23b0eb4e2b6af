/**
 * @module /v1/jobs: classify every image under a prefix of the IMAGES bucket as a batch job (Queues consumers do
 * the work; the job's Durable Object keeps its progress), follow it, read its results as JSONL, or cancel it.
 */
import { createRoute } from '@hono/zod-openapi';
import { collectionName, partKey } from '../batch/job-id.js';
import { jobStub, type JobStub } from '../batch/job-stub.js';
import { requireApiKey } from '../http/auth.js';
import { ApiError } from '../http/errors.js';
import { JobCreatedSchema, JobIdParamSchema, JobRequestSchema, JobStatusSchema } from '../http/job-schemas.js';
import { requireModel } from '../http/model.js';
import { createRouter } from '../http/openapi.js';
import { errorResponses } from '../http/schemas.js';

const create = createRoute({
  method: 'post',
  path: '/v1/jobs',
  tags: ['Batch jobs'],
  security: [{ apiKey: [] }],
  middleware: [requireApiKey] as const,
  summary: 'Classify every image under a prefix of the IMAGES bucket',
  description:
    'Starts a job: the prefix is listed page by page and its keys classified by queue consumers, exactly as /predict would classify each file. ' +
    'Keys whose etag already has an answer from an earlier job over the same prefix and `top` (and the same model) are not classified again. ' +
    'One job runs at a time per prefix and `top`: asking again while it runs answers that job (200, `created: false`).',
  request: { body: { content: { 'application/json': { schema: JobRequestSchema } }, required: true } },
  responses: {
    202: { description: 'Started', content: { 'application/json': { schema: JobCreatedSchema } } },
    200: { description: 'A job over this prefix and top was already running: this is it', content: { 'application/json': { schema: JobCreatedSchema } } },
    ...errorResponses([400, 401, 503]),
  },
});

const status = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}',
  tags: ['Batch jobs'],
  security: [{ apiKey: [] }],
  middleware: [requireApiKey] as const,
  summary: "A job's state, counts, rate, ETA and where its results are",
  request: { params: JobIdParamSchema },
  responses: { 200: { description: 'The job', content: { 'application/json': { schema: JobStatusSchema } } }, ...errorResponses([401, 404]) },
});

const results = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}/results',
  tags: ['Batch jobs'],
  security: [{ apiKey: [] }],
  middleware: [requireApiKey] as const,
  summary: "A job's results as JSONL: one line per key",
  description:
    'Each line is a JobResultLine: the key, its etag and /predict\'s answer (class, label, confidence, top, model), or the error code, message and status of a key that could not be classified. ' +
    'Lines come grouped by chunk in listing order. While the job runs, the lines so far (header `X-Job-State`).',
  request: { params: JobIdParamSchema },
  responses: {
    200: { description: 'JSONL (application/x-ndjson)', content: { 'application/x-ndjson': { schema: { type: 'string', format: 'binary' } } } },
    ...errorResponses([401, 404]),
  },
});

const cancel = createRoute({
  method: 'delete',
  path: '/v1/jobs/{id}',
  tags: ['Batch jobs'],
  security: [{ apiKey: [] }],
  middleware: [requireApiKey] as const,
  summary: 'Cancel a job: keys not yet classified are skipped; the results so far stay',
  request: { params: JobIdParamSchema },
  responses: { 200: { description: 'The job after cancelling', content: { 'application/json': { schema: JobStatusSchema } } }, ...errorResponses([401, 404]) },
});

const notFound = (id: string) => new ApiError(404, 'job_not_found', `no job ${JSON.stringify(id)}`);

function jobObject(env: Env, id: string): JobStub {
  const job = jobStub(env, id);
  if (!job) throw notFound(id);
  return job;
}

const origin = (url: string) => new URL(url).origin;

export const jobs = createRouter()
  .openapi(create, async (c) => {
    const { prefix, top } = c.req.valid('json');
    const model = await requireModel(c); // a job starts only when the model can serve it
    const stub = c.env.BATCH_JOBS.get(c.env.BATCH_JOBS.idFromName(collectionName(prefix, top)));
    const { id, created } = await stub.start(prefix, top, model.manifest.sha256);
    const statusUrl = `${origin(c.req.url)}/v1/jobs/${id}`;
    c.header('Location', statusUrl);
    return created ? c.json({ id, status_url: statusUrl, created }, 202) : c.json({ id, status_url: statusUrl, created }, 200);
  })
  .openapi(status, async (c) => {
    const { id } = c.req.valid('param');
    const { stub, ref } = jobObject(c.env, id);
    const job = await stub.status(ref.run, origin(c.req.url));
    if (!job) throw notFound(id);
    return c.json(job, 200);
  })
  .openapi(cancel, async (c) => {
    const { id } = c.req.valid('param');
    const { stub, ref } = jobObject(c.env, id);
    if ((await stub.cancel(ref.run)) === null) throw notFound(id);
    return c.json((await stub.status(ref.run, origin(c.req.url)))!, 200);
  })
  .openapi(results, async (c) => {
    const { id } = c.req.valid('param');
    const { stub, ref } = jobObject(c.env, id);
    const job = await stub.status(ref.run, origin(c.req.url));
    if (!job) throw notFound(id);
    const bucket = c.env.RESULTS;
    let after = '';
    let pending: string[] = [];
    // One part at a time: the stream never holds more than one chunk's lines.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (pending.length === 0) {
          pending = await stub.parts(ref.run, after, 100);
          if (pending.length === 0) return controller.close();
          after = pending[pending.length - 1]!;
        }
        const chunk = pending.shift()!;
        const part = await bucket.get(partKey(id, chunk));
        if (!part) return controller.error(new Error(`result part ${chunk} of job ${id} is missing from the RESULTS bucket`));
        controller.enqueue(new Uint8Array(await part.arrayBuffer()));
      },
    });
    // zod-openapi types `application/<x>json` responses as JSON and an `x-nd` prefix as never: this one is a stream.
    return c.body(body, 200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-job-state': job.state }) as never;
  });
