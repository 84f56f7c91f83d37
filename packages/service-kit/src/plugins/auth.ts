import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { createVerifier, InvalidTokenError, type Principal } from '@tmuxme/auth';
import { unauthorized } from '../http-error.js';

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    user: Principal;
  }
}

export interface AuthOptions {
  publicKey: string;
}

/** Checks `Authorization: Bearer <jwt>` with the public key only; use as a route's `onRequest`. */
export const authPlugin = fp<AuthOptions>(async (app, { publicKey }) => {
  const verify = await createVerifier(publicKey);
  app.decorateRequest('user', null as unknown as Principal);
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
    if (!match) throw unauthorized('UNAUTHENTICATED', 'Log in first: send Authorization: Bearer <access token>.');
    try {
      request.user = await verify(match[1]!);
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        throw unauthorized(error.reason === 'expired' ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN', error.message);
      }
      throw error;
    }
  });
}, { name: 'auth' });
