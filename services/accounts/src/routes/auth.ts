import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { unauthorized } from '@tmuxme/service-kit';
import type { Accounts } from '../domain/accounts.js';
import { AccessToken, ErrorResponse, Password } from './schemas.js';

/** Getting an access token: by password (people) or by API token (the CLI). */
export const authRoutes: FastifyPluginAsyncTypebox<{ accounts: Accounts }> = async (app, { accounts }) => {
  app.post('/api/v1/auth/login', {
    schema: {
      body: Type.Object({ login: Type.String({ minLength: 1, maxLength: 254 }), password: Password }, { additionalProperties: false }),
      response: { 200: AccessToken, 400: ErrorResponse, 401: ErrorResponse, 429: ErrorResponse },
    },
  }, async (request, reply) => {
    try {
      return await accounts.login(request.body.login, request.body.password, request.ip);
    } catch (error) {
      const retryAfter = (error as { details?: { retryAfter?: number } }).details?.retryAfter;
      if (retryAfter) reply.header('retry-after', String(retryAfter));
      throw error;
    }
  });

  app.post('/api/v1/auth/token', {
    schema: {
      headers: Type.Object({ authorization: Type.Optional(Type.String({ maxLength: 200 })) }),
      response: { 200: AccessToken, 401: ErrorResponse },
    },
  }, async (request) => {
    const match = /^Token (\S+)$/.exec(request.headers.authorization ?? '');
    if (!match) throw unauthorized('UNAUTHENTICATED', 'Send your API token as Authorization: Token tmx_…');
    return accounts.exchangeApiToken(match[1]!);
  });
};
