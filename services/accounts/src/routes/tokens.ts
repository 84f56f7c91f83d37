import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Accounts } from '../domain/accounts.js';
import { ErrorResponse, Timestamp } from './schemas.js';

const TokenName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\x20-\\x7e]+$' });

/** API tokens: the secret is in the creation response and nowhere else, ever. */
export const tokensRoutes: FastifyPluginAsyncTypebox<{ accounts: Accounts }> = async (app, { accounts }) => {
  app.addHook('onRequest', app.authenticate);

  app.get('/api/v1/user/tokens', {
    schema: {
      response: {
        200: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), hint: Type.String(), createdAt: Timestamp, lastUsedAt: Type.Union([Timestamp, Type.Null()]) })),
        401: ErrorResponse,
      },
    },
  }, async (request) => {
    const tokens = await accounts.listApiTokens(request.user.userId);
    return tokens.map((t) => ({ ...t, createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null }));
  });

  app.post('/api/v1/user/tokens', {
    schema: {
      body: Type.Object({ name: TokenName }, { additionalProperties: false }),
      response: { 201: Type.Object({ id: Type.String(), name: Type.String(), token: Type.String() }), 400: ErrorResponse, 401: ErrorResponse },
    },
  }, async (request, reply) => {
    const { id, name, token } = await accounts.createApiToken(request.user.userId, request.body.name.trim());
    return reply.status(201).send({ id, name, token });
  });

  app.delete('/api/v1/user/tokens/:id', {
    schema: {
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null(), 401: ErrorResponse, 404: ErrorResponse },
    },
  }, async (request, reply) => {
    await accounts.revokeApiToken(request.user.userId, request.params.id);
    return reply.status(204).send(null);
  });
};
