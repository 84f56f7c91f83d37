import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import { createServer, type Server, type ServerOptions } from '@tmuxme/service-kit';

/** Builds a service app exactly as main.ts does, minus listening and logging, for `app.inject`. */
export async function buildApp<O extends FastifyPluginOptions>(plugin: FastifyPluginAsync<O>, options: O, serverOptions: ServerOptions = {}): Promise<Server> {
  const app = createServer({ logger: false, ...serverOptions });
  await app.register(plugin as FastifyPluginAsync, options as object);
  await app.ready();
  return app;
}

/** Waits until `check` holds, for effects that arrive through the broker. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const result = await check();
      if (result !== false && result !== undefined && result !== null) return result;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw lastError ?? new Error(`condition not met within ${timeoutMs} ms`);
}
