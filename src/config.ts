/** @module Worker settings from `[vars]` (wrangler.toml), validated once per isolate with their defaults. */
import { z } from 'zod';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const ConfigSchema = z.object({
  /** Largest request body read, in bytes (checked from Content-Length before reading, and while reading). */
  MAX_BODY_BYTES: positiveInt(10 * 1024 * 1024),
  /**
   * Largest image, in pixels (checked from the header before decoding). Memory is MAX_DECODE_MB's job: a JPEG
   * 8× larger than the model input decodes at 1/8 scale in ~1 MB, anything else must fit the decode budget.
   */
  MAX_IMAGE_PIXELS: positiveInt(50_000_000),
  /** Memory a decode may take, in MB, estimated from the header (src/core/image/footprint.ts). */
  MAX_DECODE_MB: positiveInt(46),
  /**
   * Most images in one call: repeated multipart `image` fields on /predict, a V2 input of shape [N] or
   * [N, 3, H, W]. They are decoded and scored one after another, so memory is one image's whatever N is.
   */
  MAX_BATCH: positiveInt(8),
  /** Seconds a manifest read from R2 is trusted before it is checked again for a newly published model. */
  MANIFEST_TTL_SECONDS: z.coerce.number().int().nonnegative().default(60),
  /**
   * "1" (default): ORT prepacks the weights (inference 1.2× faster at 224 px, 4× on the 32 px default model) for
   * ~9 MB more wasm heap: 57.6 instead of 48.0 MB with the pre-optimised external-data form (48.0 vs 40.0 MB with
   * the plain one; 84.6 vs 70.4 MB with a model file that carries its weights inline; bench/results/cold-start.json,
   * memory.json). "0": memory first.
   */
  ORT_PREPACK: z.enum(['0', '1']).default('1'),
  /** Seconds one model load may wait on R2 (manifest, graph and weights) before it answers 503 `model_storage_timeout`. */
  STORAGE_TIMEOUT_SECONDS: z.coerce.number().positive().default(20),
  /** "1" enables /debug/memory (bench and tests only; never in production). */
  DEBUG_ROUTES: z.enum(['0', '1']).default('0'),
  /** Origins allowed to call the API from a browser: "" (default: no CORS headers), "*", or a comma list. */
  CORS_ORIGINS: z.string().default(''),
  /**
   * Keys per queue message of a batch job. A consumer classifies a message's images one after another, so with
   * max_batch_size = 2 a consumer call handles up to 100 images: ~16 s of CPU at 224 px, under the 30 s limit.
   */
  BATCH_CHUNK_KEYS: z.coerce.number().int().min(1).max(100).default(50),
  /**
   * Seconds a running job may go without any chunk finishing before its pending chunks are sent again (their
   * messages were lost: a local queue lives in memory and does not survive a restart of `wrangler dev`; a real
   * one drops what outlives its retention). A chunk sent twice is classified twice but counted and stored once.
   */
  BATCH_STALL_SECONDS: z.coerce.number().positive().default(300),
  /** The dead-letter queue's name (wrangler.toml): its messages are chunks that failed every retry. */
  BATCH_DEAD_LETTER_QUEUE: z.string().default('edge-resnet-batch-dlq'),
  /** Secret (`wrangler secret put API_KEY`): when set, inference routes need `Authorization: Bearer <key>`. */
  API_KEY: z.string().optional(),
});
export type Config = z.infer<typeof ConfigSchema>;

/** The request path's decode limits, from the configured vars. */
export const decodeLimits = (config: Config) => ({ maxPixels: config.MAX_IMAGE_PIXELS, maxDecodeBytes: config.MAX_DECODE_MB * 2 ** 20 });

let cached: { source: unknown; config: Config } | null = null;

/** Parses the environment's vars; an invalid value fails loudly (a deploy mistake, not a request error). */
export function readConfig(env: object): Config {
  if (cached?.source === env) return cached.config;
  const config = ConfigSchema.parse(env);
  cached = { source: env, config };
  return config;
}
