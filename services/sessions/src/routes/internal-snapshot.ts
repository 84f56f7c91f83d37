import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { boxIdPattern } from '@tmuxme/events';
import { ErrorResponse } from '@tmuxme/service-kit';
import type { LiveView } from '../domain/live-view.js';

const query = Type.Object({
  boxId: Type.String({ pattern: boxIdPattern }),
  /** Items with a greater id than this one: the `next` of the page before. */
  after: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Items per page, 1 to 10000; 5000 when not given. */
  limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,3}|10000)$' })),
}, { additionalProperties: false });

const pageSize = (limit: string | undefined) => (limit === undefined ? 5000 : Number(limit));

const page = <T extends ReturnType<typeof Type.Object>>(item: T) => Type.Object({ items: Type.Array(item), next: Type.Union([Type.String(), Type.Null()]) });

const LeaseItem = Type.Object({
  leaseId: Type.String(), userId: Type.String(), username: Type.String(), boxId: Type.String(), tunnelHost: Type.String(),
  port: Type.Integer(), private: Type.Boolean(), expiresAt: Type.String(),
});
const SessionItem = Type.Object({ sessionId: Type.String(), hostUserId: Type.String(), port: Type.Integer(), guestUserIds: Type.Array(Type.String()) });

const errors = { 400: ErrorResponse, 401: ErrorResponse };

/**
 * What one box needs to converge when it starts or restarts without having seen the events: its live
 * leases and its live sessions, a page at a time in id order (`?after=<next>` for the next page, until
 * `next` is null). Answered from this replica's live view, so a page costs no database read.
 * Services only: the gateway does not route `/internal`, and the routes want the service credential.
 */
export const internalSnapshotRoutes: FastifyPluginAsyncTypebox<{ view: LiveView }> = async (app, { view }) => {
  app.addHook('onRequest', app.authenticateService);

  app.get('/internal/v1/snapshot/leases', { schema: { querystring: query, response: { 200: page(LeaseItem), ...errors } } }, async (request) => {
    const { boxId, after, limit } = request.query;
    return view.leasesOn(boxId, after, pageSize(limit));
  });

  app.get('/internal/v1/snapshot/sessions', { schema: { querystring: query, response: { 200: page(SessionItem), ...errors } } }, async (request) => {
    const { boxId, after, limit } = request.query;
    const { items, next } = view.sessionsOn(boxId, after, pageSize(limit));
    return { items: items.map(({ sessionId, hostUserId, port, guestUserIds }) => ({ sessionId, hostUserId, port, guestUserIds })), next };
  });
};
