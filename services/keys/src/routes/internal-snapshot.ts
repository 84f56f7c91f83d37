import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse } from '@tmuxme/service-kit';
import type { KeyView } from '../domain/key-view.js';

const query = Type.Object({
  /** Keys with a greater id than this one: the `next` of the page before. */
  after: Type.Optional(Type.String({ pattern: '^[0-9a-f]{24}$' })),
  /** 1 to 10000. Query strings are not coerced (create-server), so the range is a pattern. */
  limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,3}|10000)$' })),
}, { additionalProperties: false });

const defaultLimit = 5000;

const KeyItem = Type.Object({
  keyId: Type.String(), userId: Type.String(), username: Type.String(), type: Type.String(), key: Type.String(), fingerprint: Type.String(),
});

/**
 * Every live key, a page at a time in key id order (`?after=<next>` for the next page, until `next` is
 * null), for a tunnel box that starts or restarts and must converge without having seen the events.
 * Answered from this replica's view, so a page costs no database read. Services only: `/internal` is
 * not routed by the gateway, and the route wants the service credential.
 */
export const internalSnapshotRoutes: FastifyPluginAsyncTypebox<{ view: KeyView }> = async (app, { view }) => {
  app.addHook('onRequest', app.authenticateService);

  app.get('/internal/v1/snapshot/keys', {
    schema: {
      querystring: query,
      response: { 200: Type.Object({ items: Type.Array(KeyItem), next: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorResponse, 401: ErrorResponse },
    },
  }, async (request) => view.page(request.query.after, request.query.limit === undefined ? defaultLimit : Number(request.query.limit)));
};
