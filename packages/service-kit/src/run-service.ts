import closeWithGrace from 'close-with-grace';
import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import { pino, type DestinationStream } from 'pino';
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
 * Credentials wherever a log line carries headers. Fastify's own request
 * lines leave headers out; this keeps an added `{req}` or `{headers}` from
 * putting a JWT, an API token or the web session's cookies in the logs.
 */
const credentialPaths = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]',
  'headers.authorization', 'headers.cookie', 'headers["x-csrf-token"]',
];

/** The JSON logger of a running service; tests pass a destination to read what it writes. */
export function serviceLogger(name: string, level: string, destination?: DestinationStream) {
  const options = { name, level, redact: { paths: credentialPaths, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Starts a service for real: JSON logs, listen, and on SIGINT/SIGTERM stop
 * taking requests, let in-flight work and consumers drain, then close.
 */
export async function runService<O extends FastifyPluginOptions>({ name, app, options, config, trustRequestId }: RunOptions<O>) {
  const logger = serviceLogger(name, config.LOG_LEVEL);
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
