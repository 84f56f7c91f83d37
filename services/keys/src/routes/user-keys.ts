import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse } from '@tmuxme/service-kit';
import type { Keys } from '../domain/keys.js';

const Key = Type.Object({
  id: Type.String(), title: Type.String(), type: Type.String(), key: Type.String(), fingerprint: Type.String(), createdAt: Type.String(),
});

/** The signed-in user's own keys. */
export const userKeysRoutes: FastifyPluginAsyncTypebox<{ keys: Keys }> = async (app, { keys }) => {
  app.addHook('onRequest', app.authenticate);

  app.get('/api/v1/user/keys', {
    schema: { response: { 200: Type.Array(Key), 401: ErrorResponse } },
  }, async (request) => keys.list(request.user.userId));

  app.post('/api/v1/user/keys', {
    schema: {
      // 8 KB is the key's own limit; the schema lets a little more through so the validator can say why.
      body: Type.Object({ title: Type.Optional(Type.String({ maxLength: 200 })), key: Type.String({ maxLength: 16_384 }) }, { additionalProperties: false }),
      response: { 201: Key, 400: ErrorResponse, 401: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request, reply) => reply.status(201).send(await keys.add(request.user, request.body, request.id)));

  app.delete('/api/v1/user/keys/:id', {
    schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 204: Type.Null(), 401: ErrorResponse, 404: ErrorResponse } },
  }, async (request, reply) => {
    await keys.remove(request.user.userId, request.params.id, request.id);
    return reply.status(204).send(null);
  });
};
