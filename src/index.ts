/** @module Worker entry point. Nothing heavy runs at isolate start: the model loads on first use. */
import { app } from './app.js';

export { WorkersAiBinding } from './binding.js';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
