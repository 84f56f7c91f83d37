import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type mongoose from 'mongoose';
import { Type } from 'typebox';
import { boxIdPattern } from '@tmuxme/events';
import { ErrorResponse, sendNdjsonSnapshot } from '@tmuxme/service-kit';
import type { LeaseDocument } from '../model/lease.js';
import type { SessionDocument } from '../model/session.js';
import type { Endings } from '../domain/endings.js';
import { leaseSnapshot } from '../domain/lease-snapshot.js';
import { sessionSnapshot } from '../domain/session-snapshot.js';

export interface InternalSnapshotOptions {
  leases: mongoose.Model<LeaseDocument>;
  sessions: mongoose.Model<SessionDocument>;
  endings: Endings;
}

const schema = {
  querystring: Type.Object({ boxId: Type.String({ pattern: boxIdPattern }) }, { additionalProperties: false }),
  response: { 400: ErrorResponse, 401: ErrorResponse },
};

/**
 * What one box needs to converge when it starts or restarts without having seen the events, one JSON
 * line each and a closing `{end, count}` line: its live leases (`{leaseId, userId, username, boxId, tunnelHost,
 * port, private, expiresAt}`) and its live sessions (`{sessionId, hostUserId, port, guestUserIds}`).
 * Services only: the gateway does not route `/internal`, and the routes want the service credential.
 */
export const internalSnapshotRoutes: FastifyPluginAsyncTypebox<InternalSnapshotOptions> = async (app, { leases, sessions, endings }) => {
  app.addHook('onRequest', app.authenticateService);

  app.get('/internal/v1/snapshot/leases', { schema }, (request, reply) => {
    sendNdjsonSnapshot(reply, leaseSnapshot(leases, request.query.boxId));
  });

  app.get('/internal/v1/snapshot/sessions', { schema }, (request, reply) => {
    sendNdjsonSnapshot(reply, sessionSnapshot(sessions, endings, request.query.boxId));
  });
};
