import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, notFound } from '@tmuxme/service-kit';
import type { KeyView } from '../domain/key-view.js';

const Username = Type.String({ minLength: 1, maxLength: 39 });
const usernamePattern = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/;

/**
 * Anyone may read a user's public keys, as JSON or as authorized_keys lines (like GitHub's `<name>.keys`).
 * Every pairing session reads its guests' keys, so the answer comes from this replica's view, not the database.
 */
export const publicKeysRoutes: FastifyPluginAsyncTypebox<{ view: KeyView }> = async (app, { view }) => {
  const lookup = (username: string) => {
    const name = username.toLowerCase();
    if (!usernamePattern.test(name)) throw notFound('USER_NOT_FOUND', 'There is no user by that name.');
    const found = view.publicKeys(name);
    if (!found) throw notFound('USER_NOT_FOUND', `There is no user called "${name}".`);
    return found;
  };

  app.get('/api/v1/users/:username/keys.json', {
    schema: {
      params: Type.Object({ username: Username }),
      response: {
        200: Type.Array(Type.Object({ id: Type.String(), type: Type.String(), key: Type.String(), fingerprint: Type.String() })),
        404: ErrorResponse,
      },
    },
  }, async (request) => lookup(request.params.username));

  app.get('/:username.keys', {
    schema: { params: Type.Object({ username: Username }) },
  }, async (request, reply) => {
    const found = await lookup(request.params.username);
    reply.type('text/plain; charset=utf-8');
    return found.map((k) => `${k.key}\n`).join('');
  });
};
