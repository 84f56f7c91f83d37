import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { unauthorized } from '../http-error.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** For `/internal/*` routes: service-to-service calls that the gateway never routes. */
    authenticateService: (request: FastifyRequest) => Promise<void>;
  }
}

export interface ServiceAuthOptions {
  /** The shared service credential; internal routes answer 401 to everything when it is empty. */
  serviceToken: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Checks `Authorization: Service <token>` in constant time (hashing first makes the lengths equal). */
export const serviceAuthPlugin = fp<ServiceAuthOptions>(async (app, { serviceToken }) => {
  const expected = digest(serviceToken);
  app.decorate('authenticateService', async (request: FastifyRequest) => {
    const match = /^Service (\S{16,512})$/.exec(request.headers.authorization ?? '');
    if (!serviceToken || !match || !timingSafeEqual(digest(match[1]!), expected)) {
      throw unauthorized('SERVICE_CREDENTIAL_REQUIRED', 'This endpoint is for tmux.me services only.');
    }
  });
}, { name: 'service-auth' });
