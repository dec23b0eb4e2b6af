/**
 * @module The queue consumer: each message is a chunk of a job's keys. It classifies them one by one, writes the
 * chunk's result part to R2 (the same key on every delivery), then tells the job's Durable Object, which counts
 * the chunk once. A model or storage fault retries the message with a growing delay; after the last retry it
 * lands in the dead-letter queue, whose messages this handler turns into error lines so that every key still
 * gets exactly one line.
 */
import { readConfig } from '../config.js';
import { modelFor } from '../http/model.js';
import { classifyObject } from './classify-object.js';
import { partKey } from './job-id.js';
import { jobStub } from './job-stub.js';
import { parseChunkMessage, retryDelaySeconds } from './message.js';
import { isErrorLine, type ChunkMessage, type ResultLine } from './types.js';

/** parseChunkMessage checked the id's form; an id of another namespace is a fault worth a retry, then the DLQ. */
function jobObject(env: Env, jobId: string) {
  const job = jobStub(env, jobId);
  if (!job) throw new Error(`chunk names job ${jobId}, which is not a job of this namespace`);
  return { stub: job.stub, run: job.ref.run };
}

async function writePart(env: Env, chunk: ChunkMessage, lines: ResultLine[]): Promise<void> {
  await env.RESULTS.put(partKey(chunk.job, chunk.chunk), lines.map((l) => JSON.stringify(l)).join('\n') + '\n', { httpMetadata: { contentType: 'application/x-ndjson' } });
  const failed = lines.filter(isErrorLine).length;
  const { stub, run } = jobObject(env, chunk.job);
  await stub.finishChunk(run, chunk.chunk, lines.length - failed, failed);
}

/**
 * Lets the runtime take in other work between two images. wrangler dev's workerd answers the bucket and the job's
 * object in-process, so a consumer call never waited on the network and its status requests waited for the whole
 * call (35 s at 224 px); a timer turn lets the event loop poll its sockets. In production it costs a timer turn.
 */
const yieldToIo = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Classifies one chunk and stores its part; throws on a fault worth a retry. */
export async function classifyChunk(chunk: ChunkMessage, env: Env, ctx: ExecutionContext): Promise<void> {
  const { stub, run } = jobObject(env, chunk.job);
  if ((await stub.beginChunk(run, chunk.chunk)) === 'skip') return;
  const config = readConfig(env);
  const model = await modelFor(env, (work) => ctx.waitUntil(work));
  const lines: ResultLine[] = [];
  for (const object of chunk.objects) {
    lines.push(await classifyObject(env.IMAGES, object, model, config, chunk.top));
    await yieldToIo();
  }
  await writePart(env, chunk, lines);
}

/** A chunk that failed every retry: each of its keys gets an error line, and the job goes on. */
export async function failChunk(chunk: ChunkMessage, env: Env, attempts: number): Promise<void> {
  const message = `classification failed ${attempts} times (the model or storage was unavailable); a rerun of the job classifies this key again`;
  const lines: ResultLine[] = chunk.objects.map((o) => ({ key: o.key, etag: o.etag, error: { code: 'chunk_failed', message }, status: 503 }));
  await writePart(env, chunk, lines);
}

export async function handleQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const deadLetters = batch.queue === readConfig(env).BATCH_DEAD_LETTER_QUEUE;
  for (const message of batch.messages) {
    const chunk = parseChunkMessage(message.body);
    if (!chunk) {
      console.error(`queue ${batch.queue}: message ${message.id} is not a chunk of a batch job; dropped`);
      message.ack();
      continue;
    }
    try {
      if (deadLetters) await failChunk(chunk, env, message.attempts);
      else await classifyChunk(chunk, env, ctx);
      message.ack();
    } catch (err) {
      console.error(`queue ${batch.queue}: chunk ${chunk.chunk} of job ${chunk.job} (attempt ${message.attempts}) failed:`, err);
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
