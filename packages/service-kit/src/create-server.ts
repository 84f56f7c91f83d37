import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { installErrorHandler } from './error-handler.js';

export const bodyLimit = 64 * 1024;

/**
 * The fastify instance every service and every test builds on, so all of
 * them agree on limits, validation and error shapes.
 */
export interface ServerOptions extends Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  /** Keep an incoming `x-request-id` (services behind the gateway) or always make a new one (the gateway). */
  trustRequestId?: boolean;
}

export function createServer({ trustRequestId = true, ...options }: ServerOptions = {}) {
  const app = Fastify({
    ...options,
    bodyLimit,
    // Starting reads whole collections into the live views and reconciles lookups: about 5 s per 100,000
    // documents on FerretDB, far past fastify's default of 10 s for a plugin to start.
    pluginTimeout: 10 * 60_000,
    // The gateway assigns the id; a service keeps it so logs and events can be joined up.
    requestIdHeader: trustRequestId ? 'x-request-id' : false,
    // Logged as `requestId`, the name event lines and envelopes use too: one query finds all a request caused.
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // Services sit behind the gateway on private addresses: the client's address is in X-Forwarded-For.
    trustProxy: 'loopback,linklocal,uniquelocal',
    genReqId: () => randomUUID(),
    ajv: {
      customOptions: {
        // Wrong types and stray fields are errors, never silently fixed: `{"username": 1}` must not become "1".
        coerceTypes: false,
        removeAdditional: false,
        allErrors: false,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // The API speaks JSON only; a text body gets a 415 that says so rather than a confusing schema error.
  app.removeContentTypeParser('text/plain');
  // Told to the client too, so a user's report or a failing test can name the request to look for in the logs.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  installErrorHandler(app);
  return app;
}

export type Server = ReturnType<typeof createServer>;
