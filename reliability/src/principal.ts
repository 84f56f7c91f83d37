import type { ApiClient } from '@tmuxme/e2e';

/**
 * Who a signed-in client is, read from its access token's claims (`sub`, `username`). Only the test reads it
 * this way, to name the user in what it expects; the services verify the signature.
 */
export function principalOf(client: ApiClient): { userId: string; username: string } {
  const [, payload = ''] = (client.accessToken ?? '').split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: unknown; username?: unknown };
  if (typeof claims.sub !== 'string' || typeof claims.username !== 'string') throw new Error('the client holds no access token naming a user');
  return { userId: claims.sub, username: claims.username };
}
