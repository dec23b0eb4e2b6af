/**
 * @module This Worker as a service binding shaped like Workers AI's: a Worker that calls
 * `env.AI.run('@cf/microsoft/resnet-50', { image })` switches from the `[ai]` binding to
 *
 *   [[services]]
 *   binding = "AI"
 *   service = "edge-resnet"
 *   entrypoint = "WorkersAiBinding"
 *
 * and gets the same answer (`[{label, score}…]`, the five best) with no other change. A request it cannot
 * answer throws an Error whose message starts with the API's error code (`unsupported_format: …`), as the
 * hosted binding throws. `fetch` serves the whole HTTP API too, for callers that want more than `run`.
 */
import { WorkerEntrypoint } from 'cloudflare:workers';
import { app } from './app.js';
import { decodeLimits, readConfig } from './config.js';
import { errorFacts } from './http/errors.js';
import { modelFor } from './http/model.js';
import { bindingImage, checkWorkersAiModel, runWorkersAi } from './http/workers-ai.js';

export type WorkersAiAnswer = Array<{ label: string; score: number }>;

export class WorkersAiBinding extends WorkerEntrypoint<Env> {
  async run(model: string, inputs: { image: number[] | Uint8Array | ArrayBuffer }): Promise<WorkersAiAnswer> {
    try {
      checkWorkersAiModel(model);
      const bytes = bindingImage(inputs);
      const loaded = await modelFor(this.env, (work) => this.ctx.waitUntil(work));
      return await runWorkersAi(bytes, loaded, decodeLimits(readConfig(this.env)));
    } catch (err) {
      const { code, message } = errorFacts(err);
      throw new Error(`${code}: ${message}`);
    }
  }

  override fetch(request: Request): Promise<Response> {
    return Promise.resolve(app.fetch(request, this.env, this.ctx));
  }
}
