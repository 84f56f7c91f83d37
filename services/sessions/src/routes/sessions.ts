import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse } from '@tmuxme/service-kit';
import type { Sessions } from '../domain/sessions.js';
import type { GuestInput } from '../domain/guests.js';

const Username = Type.String({ minLength: 1, maxLength: 39 });
const Access = Type.Union([Type.Literal('rw'), Type.Literal('ro')]);
// A guest is a username or `{username, access}`. Branching on the type (rather than "any of") makes a
// refusal name what is wrong with the form that was sent, not with the other one.
const Guest = Type.Unsafe<GuestInput>({
  if: { type: 'string' },
  then: Username,
  else: Type.Object({ username: Username, access: Type.Optional(Access) }, { additionalProperties: false }),
});

const Session = Type.Object({
  id: Type.String(),
  role: Type.Union([Type.Literal('host'), Type.Literal('guest')]),
  host: Type.Object({ username: Type.String() }),
  port: Type.Integer(),
  /** The tunnel box the session is on; it changes when the host moves the session to another box. */
  boxId: Type.String(),
  tunnelHost: Type.String(),
  tunnelPort: Type.Integer(),
  /** Its port answers on the box's loopback only: guests join through the box's SSH port (the jump commands). */
  private: Type.Boolean(),
  guests: Type.Array(Type.Object({ username: Type.String(), access: Access })),
  /** What a guest runs; for a private session, the same as `jumpJoinCommand`. */
  joinCommand: Type.String(),
  /** Through the box's SSH port, as the jump user `join`, for networks that let only that port out. */
  jumpJoinCommand: Type.String(),
  /** The box's SSH host key (`<type> <base64>`), so a client such as `tmuxme join` can pin the jump hop. */
  tunnelHostKey: Type.Optional(Type.String()),
  /** The host's SSH host key as declared (`<type> <base64>`), so a client such as `tmuxme join` can pin it. */
  hostKey: Type.Optional(Type.String()),
  hostKeyFingerprint: Type.Optional(Type.String()),
  pinnedJoinCommand: Type.Optional(Type.String()),
  /** The jump command with the box's and the host's keys pinned. */
  pinnedJumpJoinCommand: Type.Optional(Type.String()),
  createdAt: Type.String(),
  expiresAt: Type.String(),
});
const params = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** Declaring, listing, keeping alive and ending pairing sessions. */
export const sessionsRoutes: FastifyPluginAsyncTypebox<{ sessions: Sessions }> = async (app, { sessions }) => {
  app.addHook('onRequest', app.authenticate);

  app.post('/api/v1/pairing/sessions', {
    schema: {
      body: Type.Object({
        port: Type.Integer({ minimum: 1, maximum: 65535 }),
        // Past 20 guests is refused with its own code; this bound only keeps huge lists from costing work.
        guests: Type.Array(Guest, { maxItems: 100 }),
        hostKey: Type.Optional(Type.String({ maxLength: 16_384 })),
        // Must match the lease (GET /api/v1/pairing/port?private=true); a mismatch is PRIVATE_MISMATCH.
        private: Type.Optional(Type.Boolean()),
        /** The lease to declare on; needed only when the caller holds the same port on two boxes. */
        leaseId: Type.Optional(Type.String({ maxLength: 64 })),
      }, { additionalProperties: false }),
      response: { 201: Session, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request, reply) => reply.status(201).send(await sessions.declare(request.user, request.body, request.id)));

  app.get('/api/v1/pairing/sessions', {
    schema: { response: { 200: Type.Array(Session), 401: ErrorResponse } },
  }, async (request) => sessions.list(request.user));

  app.get('/api/v1/pairing/sessions/:id', {
    schema: { params, response: { 200: Session, 401: ErrorResponse, 404: ErrorResponse } },
  }, async (request) => sessions.get(request.user, request.params.id));

  app.post('/api/v1/pairing/sessions/:id/heartbeat', {
    schema: { params, response: { 200: Type.Object({ expiresAt: Type.String() }), 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } },
  }, async (request) => sessions.heartbeat(request.user, request.params.id));

  // The host lost the session's box and opened its tunnel on a lease on another box.
  app.post('/api/v1/pairing/sessions/:id/move', {
    schema: {
      params,
      body: Type.Object({ leaseId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
      response: { 200: Session, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request) => sessions.move(request.user, request.params.id, request.body.leaseId, request.id));

  app.delete('/api/v1/pairing/sessions/:id', {
    schema: { params, response: { 204: Type.Null(), 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } },
  }, async (request, reply) => {
    await sessions.remove(request.user, request.params.id, request.id);
    return reply.status(204).send(null);
  });
};
