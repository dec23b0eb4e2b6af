/** @module The Hono environment every route shares. */
export type AppEnv = { Bindings: Env };
