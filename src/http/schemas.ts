/**
 * @module The API's JSON shapes as zod schemas: one definition for the OpenAPI document, request validation,
 * and the tests that check every response against it.
 */
import { z } from '@hono/zod-openapi';
import { PreprocessSpecSchema } from '../core/preprocess-spec.js';
import { ManifestSchema } from '../core/manifest.js';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().regex(/^[a-z][a-z0-9_]*$/).openapi({ description: 'Stable, machine-readable snake_case code', example: 'unsupported_format' }),
      message: z.string().openapi({ description: 'For a person; never internal paths or stacks' }),
    }),
  })
  .openapi('Error');

export const RankedSchema = z.object({ index: z.number().int().nonnegative(), label: z.string(), score: z.number().min(0).max(1) }).openapi('Ranked');

export const ModelRefSchema = z.object({ name: z.string(), version: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).openapi('ModelRef');

export const TimingSchema = z
  .object({ decode_ms: z.number().nonnegative(), preprocess_ms: z.number().nonnegative(), inference_ms: z.number().nonnegative(), total_ms: z.number().nonnegative() })
  .openapi('Timing');

/** Something the answer was computed despite: only a cut image decoded on request (`allow_partial=1`) today. */
export const WarningSchema = z
  .object({
    code: z.literal('truncated_image'),
    message: z.string(),
    missing_fraction: z.number().min(0).max(1).openapi({ description: 'Share of the image data the file did not hold (of the JPEG scan it stops in, of a PNG\'s rows)' }),
  })
  .openapi('Warning');

export const PredictionSchema = z
  .object({
    class: z.number().int().nonnegative().openapi({ description: 'Index of the most likely label' }),
    label: z.string(),
    confidence: z.number().min(0).max(1),
    top: z.array(RankedSchema),
    model: ModelRefSchema,
    timing: TimingSchema,
    warnings: z.array(WarningSchema).optional().openapi({ description: 'Present only when the image was cut and `allow_partial=1` asked for it to be classified anyway' }),
  })
  .openapi('Prediction');

export const TopQuerySchema = z.object({
  top: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ param: { name: 'top', in: 'query' }, description: 'How many ranked labels to return (default 5, clamped to the number of labels)', example: 5 }),
});

export const PredictQuerySchema = TopQuerySchema.extend({
  allow_partial: z
    .enum(['0', '1'])
    .optional()
    .openapi({
      param: { name: 'allow_partial', in: 'query' },
      description: '1: classify a cut image (a JPEG or PNG whose data ends early) from what it holds, with a `warnings` entry saying how much was missing, instead of refusing it with 422 `truncated_image` (default 0)',
    }),
});

/** One image of a batch that could not be classified: its error, in the API's form, and the status it would have had alone. */
export const BatchItemErrorSchema = ErrorSchema.extend({ status: z.number().int().min(400).max(499) }).openapi('BatchItemError');
/** A /predict batch (repeated `image` fields): one entry per image, in order. */
export const BatchPredictionSchema = z.array(z.union([PredictionSchema, BatchItemErrorSchema])).openapi('BatchPrediction');

export const ModelDescriptionSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    sha256: z.string(),
    labels: z.array(z.string()),
    input: ManifestSchema.shape.input,
    preprocess: PreprocessSpecSchema,
    quantization: ManifestSchema.shape.quantization,
    max_batch: z.number().int().positive().openapi({ description: 'Most images in one call (MAX_BATCH)' }),
    endpoints: z
      .object({
        predict: z.string(),
        v2_infer: z.string(),
        workers_ai: z.string(),
        workers_ai_binding: z.object({ entrypoint: z.string(), model: z.string() }),
        batch_jobs: z.string().openapi({ description: 'POST a prefix of the IMAGES bucket: every image under it classified as a batch job' }),
      })
      .openapi({ description: 'Where to call this model: each protocol this server speaks' }),
  })
  .openapi('ModelDescription');

export const ModelsSchema = z.object({ models: z.array(ModelDescriptionSchema) }).openapi('Models');

export const ExamplesSchema = z
  .object({
    model: ModelRefSchema,
    labels: z.array(z.string()),
    examples: z.array(z.object({ label: z.string(), url: z.string(), bytes: z.number().int().positive() })),
  })
  .openapi('Examples');

export const LiveSchema = z.object({ status: z.literal('ok') }).openapi('Live');
export const ReadySchema = z.object({ status: z.literal('ready'), model: ModelRefSchema }).openapi('Ready');

/** Cloudflare Workers AI image-classification output (what `@cf/microsoft/resnet-50` returns). */
export const WorkersAiResultSchema = z.array(z.object({ label: z.string(), score: z.number().min(0).max(1) })).openapi('WorkersAiResult');
export const WorkersAiEnvelopeSchema = z
  .object({ result: WorkersAiResultSchema, success: z.literal(true), errors: z.array(z.unknown()), messages: z.array(z.unknown()) })
  .openapi('WorkersAiEnvelope');

/** Binary bodies are documented, not validated by the framework: they are read with a size cap and sniffed. */
const binaryBody = () => ({ type: 'string' as const, format: 'binary' });
export const imageBodyContent = {
  'multipart/form-data': { schema: { type: 'object' as const, properties: { image: binaryBody() }, required: ['image'] } },
  'image/jpeg': { schema: binaryBody() },
  'image/png': { schema: binaryBody() },
  'application/octet-stream': { schema: binaryBody() },
};

/** The error responses every inference route can give, for the document. */
export const errorResponses = (codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      code,
      { description: ERROR_DESCRIPTIONS[code] ?? 'Error', content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'No image, bad multipart, or a bad parameter',
  401: 'Missing or wrong API key (only when the API_KEY secret is set)',
  404: 'No such route or model',
  413: 'Body or pixel count over the configured limits',
  415: 'Not a JPEG or PNG (or a variant the decoder refuses)',
  422: 'Corrupt or undecodable image',
  503: 'Model unavailable',
};
