import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type mongoose from 'mongoose';
import { Type } from 'typebox';
import { ErrorResponse, sendNdjsonSnapshot } from '@tmuxme/service-kit';
import type { LeaseDocument } from '../model/lease.js';
import { leaseSnapshot } from '../domain/lease-snapshot.js';

/**
 * The live leases of one box, one JSON line each (`{leaseId, userId, username, tunnelHost,
 * port, expiresAt}`) and a closing `{end, count}` line, so a tunnel box that starts or
 * restarts converges without having seen the events. Services only: the gateway does not
 * route `/internal`, and the route wants the service credential.
 */
export const internalSnapshotRoutes: FastifyPluginAsyncTypebox<{ leases: mongoose.Model<LeaseDocument> }> = async (app, { leases }) => {
  app.addHook('onRequest', app.authenticateService);

  app.get('/internal/v1/snapshot/leases', {
    schema: {
      querystring: Type.Object({ tunnelHost: Type.String({ minLength: 1, maxLength: 253 }) }, { additionalProperties: false }),
      response: { 400: ErrorResponse, 401: ErrorResponse },
    },
  }, (request, reply) => {
    sendNdjsonSnapshot(reply, leaseSnapshot(leases, request.query.tunnelHost));
  });
};
