import closeWithGrace from 'close-with-grace';
import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import { pino } from 'pino';
import { createServer } from './create-server.js';

export interface RunOptions<O extends FastifyPluginOptions> {
  name: string;
  app: FastifyPluginAsync<O>;
  options: O;
  /** The service's loaded settings; see `serverSettings` in @tmuxme/config. */
  config: { HOST: string; PORT: number; LOG_LEVEL: string };
  trustRequestId?: boolean;
}

/**
 * Starts a service for real: JSON logs, listen, and on SIGINT/SIGTERM stop
 * taking requests, let in-flight work and consumers drain, then close.
 */
export async function runService<O extends FastifyPluginOptions>({ name, app, options, config, trustRequestId }: RunOptions<O>) {
  const logger = pino({ name, level: config.LOG_LEVEL });
  const server = createServer({ loggerInstance: logger, trustRequestId });
  await server.register(app as FastifyPluginAsync, options as object);
  closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an error');
    else logger.info({ signal }, 'stopping');
    await server.close();
  });
  await server.listen({ host: config.HOST, port: config.PORT });
  return server;
}
