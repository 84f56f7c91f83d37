import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type mongoose from 'mongoose';
import { Type } from 'typebox';
import { ErrorResponse } from '@tmuxme/service-kit';
import type { LeaseDocument } from '../model/lease.js';
import { leaseSnapshot } from '../domain/lease-snapshot.js';

/**
 * The live leases of one box, page by page, so a tunnel box that starts or
 * restarts converges without having seen the events. Services only: the
 * gateway does not route `/internal`, and the route wants the service credential.
 */
export const internalSnapshotRoutes: FastifyPluginAsyncTypebox<{ leases: mongoose.Model<LeaseDocument> }> = async (app, { leases }) => {
  app.addHook('onRequest', app.authenticateService);

  app.get('/internal/v1/snapshot/leases', {
    schema: {
      querystring: Type.Object({
        tunnelHost: Type.String({ minLength: 1, maxLength: 253 }),
        after: Type.Optional(Type.String({ pattern: '^[0-9a-f]{24}$' })),
        limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          leases: Type.Array(Type.Object({
            leaseId: Type.String(), userId: Type.String(), username: Type.String(), tunnelHost: Type.String(), port: Type.Integer(), expiresAt: Type.String(),
          })),
          next: Type.Union([Type.String(), Type.Null()]),
        }),
        400: ErrorResponse,
        401: ErrorResponse,
      },
    },
  }, async (request) => {
    const { tunnelHost, after, limit } = request.query;
    return leaseSnapshot(leases, tunnelHost, after, Math.min(Number(limit ?? 5000), 10_000));
  });
};
