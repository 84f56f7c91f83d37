import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { badRequest } from '@tmuxme/service-kit';
import type { Accounts } from '../domain/accounts.js';
import { Account, Email, ErrorResponse, Password } from './schemas.js';

/** The signed-in user's own account. */
export const userRoutes: FastifyPluginAsyncTypebox<{ accounts: Accounts }> = async (app, { accounts }) => {
  app.addHook('onRequest', app.authenticate);

  app.get('/api/v1/user', {
    schema: { response: { 200: Account, 401: ErrorResponse } },
  }, async (request) => {
    const user = await accounts.get(request.user.userId);
    return { username: user.username, email: user.email, createdAt: user.createdAt.toISOString() };
  });

  app.patch('/api/v1/user', {
    schema: {
      body: Type.Object({ currentPassword: Password, email: Type.Optional(Email), password: Type.Optional(Password) }, { additionalProperties: false }),
      response: { 200: Account, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request) => {
    if (request.body.email === undefined && request.body.password === undefined) {
      throw badRequest('NOTHING_TO_CHANGE', 'Send a new email or a new password.');
    }
    const account = await accounts.update(request.user.userId, request.body, request.id);
    return { ...account, createdAt: account.createdAt.toISOString() };
  });

  app.delete('/api/v1/user', {
    schema: {
      body: Type.Object({ password: Password }, { additionalProperties: false }),
      response: { 204: Type.Null(), 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
    },
  }, async (request, reply) => {
    await accounts.remove(request.user.userId, request.body.password, request.id);
    return reply.status(204).send(null);
  });
};
