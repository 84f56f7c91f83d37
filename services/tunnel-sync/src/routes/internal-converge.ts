import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, HttpError } from '@tmuxme/service-kit';
import type { Projection } from '../domain/projection.js';

/**
 * Converges the box from the key, lease and session snapshots now, for an operator or a deploy script that
 * knows the box missed events. Services only, like every `/internal` route.
 */
export const internalConvergeRoutes: FastifyPluginAsyncTypebox<{ projection: Projection }> = async (app, { projection }) => {
  app.addHook('onRequest', app.authenticateService);

  app.post('/internal/v1/converge', {
    schema: {
      response: {
        200: Type.Object({
          keys: Type.Integer(), leases: Type.Integer(), sessions: Type.Integer(), changes: Type.Integer(),
          readMs: Type.Integer(), writtenMs: Type.Integer(), savedMs: Type.Integer(),
        }),
        401: ErrorResponse,
        503: ErrorResponse,
      },
    },
  }, async (request) => {
    try {
      return await projection.converge();
    } catch (error) {
      request.log.warn({ err: error }, 'converging on demand failed');
      throw new HttpError(503, 'SNAPSHOT_UNAVAILABLE', `The snapshot could not be read or applied: ${(error as Error).message}`);
    }
  });
};
