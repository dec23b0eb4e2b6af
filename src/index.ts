/** @module Worker entry point. Nothing heavy runs at isolate start: the model loads on first use. */
import { app } from './app.js';
import { handleQueue } from './batch/consumer.js';

export { WorkersAiBinding } from './binding.js';
export { BatchJobs } from './batch/job-object.js';

export default {
  fetch: app.fetch,
  // Batch jobs' chunks (and, from the dead-letter queue, the chunks that failed every retry).
  queue: handleQueue,
} satisfies ExportedHandler<Env>;
