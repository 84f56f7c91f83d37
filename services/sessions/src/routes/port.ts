import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { boxIdPattern } from '@tmuxme/events';
import { ErrorResponse, type HttpError } from '@tmuxme/service-kit';
import type { Leases } from '../domain/leases.js';
import type { Sessions } from '../domain/sessions.js';

const Lease = Type.Object({
  port: Type.Integer(),
  /** The tunnel box the port is on. */
  boxId: Type.String(),
  tunnelHost: Type.String(), tunnelPort: Type.Integer(), tunnelHostKey: Type.String(), leaseId: Type.String(), expiresAt: Type.String(),
  private: Type.Boolean(),
  /** The box account to open the forward as: sshd binds a `tunnel-private` forward to the box's loopback. */
  tunnelUser: Type.Union([Type.Literal('tunnel'), Type.Literal('tunnel-private')]),
});
const LeaseQuery = Type.Object({
  // A query string is text: only the two words are taken, so a typo cannot quietly lease a public port.
  private: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  /** A box not to lease on: the one a host just lost, moving its session elsewhere. */
  avoidBox: Type.Optional(Type.String({ pattern: boxIdPattern })),
}, { additionalProperties: false });

/** A host asks for a port on a tunnel box before opening its reverse tunnel there, and may hand it back unused. */
export const portRoutes: FastifyPluginAsyncTypebox<{ leases: Leases; sessions: Sessions }> = async (app, { leases, sessions }) => {
  app.addHook('onRequest', app.authenticate);
  // A full range frees up as leases end, and boxes come back, so the refusal says when to ask again.
  app.addHook('onError', async (_request, reply, error) => {
    const retryAfter = (error as Partial<HttpError>).details?.retryAfter;
    if (retryAfter) reply.header('retry-after', String(retryAfter));
  });

  app.get('/api/v1/pairing/port', {
    schema: { querystring: LeaseQuery, response: { 200: Lease, 400: ErrorResponse, 401: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse } },
  }, async (request, reply) => {
    // Every answer is a new lease: no cache may replay one.
    reply.header('cache-control', 'no-store');
    return leases.lease(request.user, request.id, { private: request.query.private === 'true', avoidBox: request.query.avoidBox });
  });

  app.delete('/api/v1/pairing/port/:leaseId', {
    schema: {
      params: Type.Object({ leaseId: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null(), 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request, reply) => {
    await sessions.giveBackLease(request.user, request.params.leaseId, request.id);
    return reply.status(204).send(null);
  });
};
