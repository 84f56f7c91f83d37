import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Accounts } from '../domain/accounts.js';
import { Email, ErrorResponse, Password, Username } from './schemas.js';

/** Sign-up: the one public write of the service. */
export const usersRoutes: FastifyPluginAsyncTypebox<{ accounts: Accounts }> = async (app, { accounts }) => {
  app.post('/api/v1/users', {
    schema: {
      body: Type.Object({ username: Username, email: Email, password: Password, passwordConfirmation: Password }, { additionalProperties: false }),
      response: {
        201: Type.Object({ username: Type.String(), email: Type.String(), apiToken: Type.String() }),
        400: ErrorResponse,
        409: ErrorResponse,
      },
    },
  }, async (request, reply) => {
    const created = await accounts.signup(request.body, request.id);
    return reply.status(201).send(created);
  });
};
