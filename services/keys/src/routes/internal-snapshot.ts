import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponse, sendNdjsonSnapshot } from '@tmuxme/service-kit';
import type { Keys } from '../domain/keys.js';

/**
 * Every live key, one JSON line each (`{keyId, userId, username, type, key, fingerprint}`)
 * and a closing `{end, count}` line, for a tunnel box that starts or restarts and must
 * converge without having seen the events. Services only: `/internal` is not routed
 * by the gateway, and the route wants the service credential.
 */
export const internalSnapshotRoutes: FastifyPluginAsyncTypebox<{ keys: Keys }> = async (app, { keys }) => {
  app.addHook('onRequest', app.authenticateService);

  app.get('/internal/v1/snapshot/keys', {
    schema: { response: { 401: ErrorResponse } },
  }, (_request, reply) => {
    sendNdjsonSnapshot(reply, keys.snapshot());
  });
};
