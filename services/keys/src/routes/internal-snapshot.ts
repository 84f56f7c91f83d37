import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse } from '@tmuxme/service-kit';
import type { Keys } from '../domain/keys.js';

/**
 * Every live key, page by page, for a tunnel box that starts or restarts and
 * must converge without having seen the events. Services only: `/internal`
 * is not routed by the gateway, and the route wants the service credential.
 */
export const internalSnapshotRoutes: FastifyPluginAsyncTypebox<{ keys: Keys }> = async (app, { keys }) => {
  app.addHook('onRequest', app.authenticateService);

  app.get('/internal/v1/snapshot/keys', {
    schema: {
      querystring: Type.Object({
        after: Type.Optional(Type.String({ pattern: '^[0-9a-f]{24}$' })),
        limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          keys: Type.Array(Type.Object({
            keyId: Type.String(), userId: Type.String(), username: Type.String(), type: Type.String(), key: Type.String(), fingerprint: Type.String(),
          })),
          next: Type.Union([Type.String(), Type.Null()]),
        }),
        401: ErrorResponse,
      },
    },
  }, async (request) => keys.snapshot(request.query.after, Math.min(Number(request.query.limit ?? 5000), 10_000)));
};
