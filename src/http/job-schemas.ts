/** @module Request and response shapes of the batch-job routes (/v1/jobs), for validation and the OpenAPI document. */
import { z } from '@hono/zod-openapi';
import { ErrorSchema, RankedSchema } from './schemas.js';

export const JobRequestSchema = z
  .object({
    prefix: z
      .string()
      .max(1024)
      .openapi({ description: 'Classify every object whose key starts with this, in the `IMAGES` R2 bucket ("" for the whole bucket)', example: 'photos/2026/' }),
    top: z.number().int().min(1).max(1000).default(5).openapi({ description: 'Ranked labels per image (default 5)', example: 5 }),
  })
  .strict()
  .openapi('JobRequest');

export const JobIdParamSchema = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, description: 'The job id POST /v1/jobs answered' }),
});

export const JobCreatedSchema = z
  .object({
    id: z.string(),
    status_url: z.string(),
    created: z.boolean().openapi({ description: 'false: a job over the same prefix and top was already running, and this is it' }),
  })
  .openapi('JobCreated');

export const JobStatusSchema = z
  .object({
    id: z.string(),
    state: z.enum(['listing', 'running', 'done', 'failed', 'cancelled']).openapi({ description: '`listing`: pages of the prefix are still being listed (and classified meanwhile)' }),
    prefix: z.string(),
    top: z.number().int(),
    model_sha256: z.string().openapi({ description: 'The model served when the job started (each result line names the model that answered it)' }),
    counts: z.object({
      listed: z.number().int().openapi({ description: 'Keys listed so far' }),
      done: z.number().int().openapi({ description: 'Keys answered with labels' }),
      failed: z.number().int().openapi({ description: 'Keys answered with an error line (a bad image, or a chunk that failed every retry)' }),
      reused: z.number().int().openapi({ description: 'Of done and failed: answers taken from an earlier job over the same prefix (same etag and model), not classified again' }),
    }),
    images_per_second: z.number().nullable(),
    eta_seconds: z.number().nullable().openapi({ description: 'null while the listing goes on' }),
    created_at: z.string(),
    finished_at: z.string().nullable(),
    error: z.string().nullable(),
    results: z.object({
      url: z.string().openapi({ description: 'GET it for the results as JSONL' }),
      bucket_binding: z.literal('RESULTS'),
      prefix: z.string().openapi({ description: 'Where the result parts are in the RESULTS bucket (one .jsonl per chunk)' }),
      parts: z.number().int(),
    }),
    storage_rows_written: z.number().int().openapi({ description: "Rows the job's bookkeeping wrote in its Durable Object's SQLite storage (billed per row written): about three per chunk of keys, never one per key" }),
  })
  .strict()
  .openapi('JobStatus');

/** One line of GET /v1/jobs/{id}/results (documentation: the stream is JSONL, one of these per line). */
export const JobResultLineSchema = z
  .union([
    z.object({ key: z.string(), etag: z.string(), class: z.number().int(), label: z.string(), confidence: z.number(), top: z.array(RankedSchema), model: z.object({ name: z.string(), version: z.string(), sha256: z.string() }) }),
    ErrorSchema.extend({ key: z.string(), etag: z.string(), status: z.number().int() }),
  ])
  .openapi('JobResultLine');
