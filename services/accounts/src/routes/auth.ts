import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { unauthorized, type HttpError } from '@tmuxme/service-kit';
import type { Accounts } from '../domain/accounts.js';
import { AccessToken, ErrorResponse, Password } from './schemas.js';

/** A refusal that says when to come back (429 TOO_MANY_ATTEMPTS) says it in Retry-After too. */
async function withRetryAfter<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const retryAfter = (error as Partial<HttpError>).details?.retryAfter;
    if (retryAfter) reply.header('retry-after', String(retryAfter));
    throw error;
  }
}

/** Getting an access token: by password (people) or by API token (the CLI). Failures of both are limited per address. */
export const authRoutes: FastifyPluginAsyncTypebox<{ accounts: Accounts }> = async (app, { accounts }) => {
  app.post('/api/v1/auth/login', {
    schema: {
      body: Type.Object({ login: Type.String({ minLength: 1, maxLength: 254 }), password: Password }, { additionalProperties: false }),
      response: { 200: AccessToken, 400: ErrorResponse, 401: ErrorResponse, 429: ErrorResponse },
    },
  }, async (request, reply) => withRetryAfter(reply, () => accounts.login(request.body.login, request.body.password, request.ip)));

  app.post('/api/v1/auth/token', {
    schema: {
      headers: Type.Object({ authorization: Type.Optional(Type.String({ maxLength: 200 })) }),
      response: { 200: AccessToken, 401: ErrorResponse, 429: ErrorResponse },
    },
  }, async (request, reply) => {
    const match = /^Token (\S+)$/.exec(request.headers.authorization ?? '');
    if (!match) throw unauthorized('UNAUTHENTICATED', 'Send your API token as Authorization: Token tmx_…');
    return withRetryAfter(reply, () => accounts.exchangeApiToken(match[1]!, request.ip));
  });
};
