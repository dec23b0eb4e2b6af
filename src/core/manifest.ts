/** @module The model manifest: what the pipeline writes beside a model and what the Worker trusts. */
import { z } from 'zod';
import { PreprocessSpecSchema } from './preprocess-spec.js';

export const MANIFEST_SCHEMA_VERSION = 1;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
/** A plain file name inside the model folder (no paths: the manifest cannot point outside it). */
const FileName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'a file name without directories');
/** A file of the model folder, with what it must hash to. */
const FileRef = z.object({ file: FileName, sha256: Sha256, bytes: z.number().int().positive() });
export type FileRef = z.infer<typeof FileRef>;

export const ManifestSchema = z.object({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
  name: z.string().min(1),
  version: z.string().min(1),
  architecture: z.string().min(1),
  /** The int8 model's file name in the model folder (and its key suffix in R2). */
  file: FileName,
  sha256: Sha256,
  bytes: z.number().int().positive(),
  createdAt: z.string(),
  input: z.object({
    name: z.string().min(1),
    shape: z.tuple([z.literal(1), z.literal(3), z.number().int().positive(), z.number().int().positive()]),
    layout: z.literal('NCHW'),
    dtype: z.literal('float32'),
  }),
  output: z.object({
    name: z.string().min(1),
    /** `probabilities`: the graph ends in softmax; `logits`: the runtime applies softmax. */
    kind: z.enum(['probabilities', 'logits']),
  }),
  preprocess: PreprocessSpecSchema,
  labels: z.array(z.string().min(1)).min(2),
  quantization: z
    .object({
      format: z.literal('QDQ'),
      weights: z.literal('int8 symmetric per-channel'),
      activations: z.literal('uint8 asymmetric per-tensor'),
      bias: z.literal('int32'),
      calibration: z.object({ method: z.enum(['minmax', 'percentile', 'entropy']), images: z.number().int().nonnegative() }),
    })
    .nullable(),
  /** Evaluation the model was built with (top-1 of both precisions, agreement, on which data). */
  metrics: z.record(z.string(), z.union([z.number(), z.string()])),
  /** The float model it was quantized from, when published alongside. */
  reference: FileRef.optional(),
  /**
   * The form the Worker loads, when present: `file`'s graph with its weights in an ONNX external-data file
   * (`graph` names `weights.file` as their location). Same numbers as `file`, a smaller wasm heap. Manifests
   * without it load `file` itself. `preOptimised`: `graph` was saved after onnxruntime's graph optimisations
   * (level `all`, portable ops only; by whom), checked to give `file`'s outputs: the Worker loads it with ORT's
   * optimisations off. Workers that do not know the field load it with them on, with the same outputs.
   */
  externalData: z
    .object({ graph: FileRef, weights: FileRef, preOptimised: z.object({ level: z.literal('all'), by: z.string().min(1) }).optional() })
    .optional(),
  /**
   * A few images of what the model knows, each with its true label (for the default model: shapes from its test
   * split), served with the model so the web page can show a first visitor what to try.
   */
  examples: z.array(FileRef.extend({ label: z.string().min(1) })).max(12).optional(),
  /**
   * The network's shape, where the pipeline built it: multiply-accumulates of one image (G), the inner widths
   * [reduce, spatial] of every bottleneck by stage, each stage's residual stream width, and, for a pruned
   * network, what it was pruned from (`keepStream` when its streams were cut too).
   */
  network: z
    .object({
      gmac: z.number().positive(),
      widths: z.array(z.array(z.tuple([z.number().int().positive(), z.number().int().positive()]))),
      streams: z.array(z.number().int().positive()).optional(),
      prunedFrom: z
        .object({ model: z.string().min(1), gmac: z.number().positive(), keep: z.number().positive().max(1), keepStream: z.number().positive().max(1).optional(), by: z.enum(['l1', 'bn-gamma', 'taylor']) })
        .optional(),
    })
    .optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** Where models live in the MODELS bucket: the manifest names the current one… */
export const MANIFEST_KEY = 'manifest.json';
/** …and each model sits under its content address, so publishing never overwrites a served object. */
export const modelKey = (manifest: Pick<Manifest, 'sha256'>) => `models/${manifest.sha256}.onnx`;
/** The R2 key of an external-data weights file (content-addressed like the models). */
export const weightsKey = (ref: Pick<FileRef, 'sha256'>) => `models/${ref.sha256}.weights`;

/** The R2 key of an example image (content-addressed too). */
export const exampleKey = (ref: Pick<FileRef, 'sha256'>) => `examples/${ref.sha256}`;

/** Parses and validates manifest JSON; the error lists every bad field. */
export function parseManifest(json: unknown): Manifest {
  const result = ManifestSchema.safeParse(json);
  if (!result.success) throw new Error(`invalid model manifest: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  if (result.data.input.shape[2] !== result.data.preprocess.height || result.data.input.shape[3] !== result.data.preprocess.width) {
    throw new Error('invalid model manifest: input.shape and preprocess size disagree');
  }
  return result.data;
}
