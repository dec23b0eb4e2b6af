/**
 * @module The Open Inference Protocol (KServe V2, REST) JSON shapes we speak, as zod schemas: request
 * validation and the OpenAPI document.
 */
import { z } from '@hono/zod-openapi';

/**
 * Tensor data: flat or nested row-major arrays, as the protocol allows. Elements are checked against the
 * datatype when the input is read (a recursive schema here would not render in the document).
 */
const TensorDataSchema = z.array(z.unknown()).openapi({ description: 'Row-major values, flat or nested', example: ['<base64 of a JPEG>'] });

export const V2DatatypeSchema = z.enum(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']);

export const V2InferInputSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  datatype: V2DatatypeSchema,
  parameters: z.record(z.string(), z.unknown()).optional(),
  data: TensorDataSchema,
});

export const V2InferRequestSchema = z
  .object({
    id: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    inputs: z.array(V2InferInputSchema).min(1),
    outputs: z.array(z.object({ name: z.string().min(1), parameters: z.record(z.string(), z.unknown()).optional() })).optional(),
  })
  .openapi('V2InferRequest', {
    description:
      'One input: `image` (BYTES, shape [1], data [base64 of a JPEG/PNG file]) or the model input tensor (FP32, shape [1, 3, H, W], row-major, already preprocessed as the model metadata says).',
  });
export type V2InferRequest = z.infer<typeof V2InferRequestSchema>;
export type V2InferInput = z.infer<typeof V2InferInputSchema>;

export const V2OutputSchema = z.object({ name: z.string(), datatype: V2DatatypeSchema, shape: z.array(z.number().int()), data: z.array(z.union([z.number(), z.string()])) });

export const V2InferResponseSchema = z
  .object({ model_name: z.string(), model_version: z.string(), id: z.string().optional(), outputs: z.array(V2OutputSchema) })
  .openapi('V2InferResponse');

const TensorMetadataSchema = z.object({ name: z.string(), datatype: V2DatatypeSchema, shape: z.array(z.number().int()) });
export const V2ModelMetadataSchema = z
  .object({ name: z.string(), versions: z.array(z.string()), platform: z.string(), inputs: z.array(TensorMetadataSchema), outputs: z.array(TensorMetadataSchema) })
  .openapi('V2ModelMetadata');
export const V2ServerMetadataSchema = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) }).openapi('V2ServerMetadata');
export const V2LiveSchema = z.object({ live: z.boolean() }).openapi('V2Live');
export const V2ReadySchema = z.object({ ready: z.boolean() }).openapi('V2Ready');
export const V2ModelReadySchema = z.object({ name: z.string(), ready: z.boolean() }).openapi('V2ModelReady');
export const V2ErrorSchema = z.object({ error: z.string() }).openapi('V2Error');
