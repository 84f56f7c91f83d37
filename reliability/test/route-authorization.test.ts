import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { createSigner } from '@tmuxme/auth';
import { ApiClient, startStack, type Stack, type StackRoute } from '@tmuxme/e2e';
import { ed25519PublicKeyLine, eventually, MailCatcher, testAmqpUrl } from '@tmuxme/testing';
import { authorizedKeysFolder, bodyOf, fillParams, gatewayForwards, mutatingMethods, pathPattern, principalOf } from '../src/index.js';

/**
 * Every route that changes something, as the running apps registered them (all six, the consumers' own
 * HTTP included), called without a token, with an expired one and with another user's: each is refused
 * with a code, and the user whose things they name finds everything as it was.
 */

/**
 * Open to anyone by design, so left out of the calls below: any other route must refuse a caller without a
 * token, so a new public route that is not listed here fails the test.
 */
const publicByDesign: Record<string, string> = {
  'POST /api/v1/users': 'signing up is how an account starts',
  'POST /api/v1/auth/login': 'logging in is how an access token is had: the password is the credential',
  'POST /api/v1/auth/token': 'the CLI exchanges an API token for an access token: the API token is the credential',
  'POST /web/v1/session': "the web pages' sign-in, which logs in through accounts",
  'DELETE /web/v1/session': "the web pages' sign-out: it only clears the caller's own cookies",
};

/** Acts on the caller's own account whoever calls it: nothing in the request can name another user. */
const selfScoped: Record<string, string> = {
  'POST /api/v1/user/tokens': "creates an API token for the caller's own account",
};

interface Victim {
  user: ApiClient;
  password: string;
  key: { id: string; key: string };
  tokenId: string;
  sessionId: string;
  /** A lease with no session on it, which only its holder may give back. */
  spareLease: { leaseId: string; port: number };
}

/** What the other user sends to each route: the victim's ids in the path, and a body aimed at the victim. */
const attacks: Record<string, (victim: Victim) => { params?: Record<string, string>; body?: unknown; expect: [number, string] }> = {
  'POST /api/v1/user/tokens': () => ({ body: { name: 'mine' }, expect: [201, ''] }),
  'DELETE /api/v1/user/tokens/:id': (v) => ({ params: { id: v.tokenId }, expect: [404, 'TOKEN_NOT_FOUND'] }),
  'PATCH /api/v1/user': (v) => ({ body: { currentPassword: v.password, email: 'taken-over@example.com' }, expect: [403, 'WRONG_PASSWORD'] }),
  'DELETE /api/v1/user': (v) => ({ body: { password: v.password }, expect: [403, 'WRONG_PASSWORD'] }),
  'POST /api/v1/user/keys': (v) => ({ body: { key: v.key.key }, expect: [409, 'KEY_IN_USE'] }),
  'DELETE /api/v1/user/keys/:id': (v) => ({ params: { id: v.key.id }, expect: [404, 'KEY_NOT_FOUND'] }),
  'DELETE /api/v1/pairing/port/:leaseId': (v) => ({ params: { leaseId: v.spareLease.leaseId }, expect: [404, 'LEASE_NOT_FOUND'] }),
  'POST /api/v1/pairing/sessions': (v) => ({ body: { port: v.spareLease.port, guests: ['victim'] }, expect: [403, 'PORT_NOT_LEASED'] }),
  'POST /api/v1/pairing/sessions/:id/heartbeat': (v) => ({ params: { id: v.sessionId }, expect: [403, 'NOT_SESSION_HOST'] }),
  'POST /api/v1/pairing/sessions/:id/move': (v) => ({ params: { id: v.sessionId }, body: { leaseId: v.spareLease.leaseId }, expect: [403, 'NOT_SESSION_HOST'] }),
  'DELETE /api/v1/pairing/sessions/:id': (v) => ({ params: { id: v.sessionId }, expect: [403, 'NOT_SESSION_HOST'] }),
  'POST /internal/v1/converge': () => ({ expect: [401, 'SERVICE_CREDENTIAL_REQUIRED'] }),
};

let stack: Stack;
let catcher: MailCatcher;
let folder: Awaited<ReturnType<typeof authorizedKeysFolder>>;

beforeAll(async () => {
  catcher = await MailCatcher.start();
  folder = await authorizedKeysFolder();
  stack = await startStack({
    mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl(), smtpUrl: catcher.url, authorizedKeysFile: folder.file, tunnelGroup: folder.group,
  });
});
afterAll(async () => {
  await stack?.close();
  await catcher?.stop();
  await folder?.remove();
});

const routeName = (route: Pick<StackRoute, 'method' | 'url'>) => `${route.method} ${route.url}`;

function serviceUrl(service: StackRoute['service']): string {
  const { address, port } = stack.servers[service]!.server.address() as AddressInfo;
  return `http://${address}:${port}`;
}

/** What the victim can see of their account, to compare before and after. */
async function accountOf(victim: Victim) {
  const read = async (path: string) => (await victim.user.request('GET', path)).json as unknown;
  const ids = async (path: string) => ((await read(path)) as { id: string }[]).map((item) => item.id).sort();
  return { user: await read('/api/v1/user'), keys: await ids('/api/v1/user/keys'), tokens: await ids('/api/v1/user/tokens'), sessions: await ids('/api/v1/pairing/sessions') };
}

describe('every mutating route', () => {
  it('refuses callers without a token, with an expired one, and with another user’s', async () => {
    const api = new ApiClient(stack.gatewayUrl, undefined, 30_000);
    const { user: attacker } = await api.signup('mallory');
    const password = 'the victim’s own password';
    const { user } = await api.signup('victim', password);
    const key = await bodyOf<Victim['key']>(201, user.request('POST', '/api/v1/user/keys', { key: ed25519PublicKeyLine() }));
    const { id: tokenId } = await bodyOf<{ id: string }>(201, user.request('POST', '/api/v1/user/tokens', { name: 'laptop' }));
    const lease = () => bodyOf<{ leaseId: string; port: number }>(200, user.request('GET', '/api/v1/pairing/port'));
    const { port } = await lease();
    // The attacker is the session's guest: a guest may see it, but only its host may keep it alive or end it.
    const session = await eventually(async () => {
      const declared = await user.request('POST', '/api/v1/pairing/sessions', { port, guests: ['mallory'] });
      return declared.status === 201 ? declared.json as { id: string } : undefined;
    }, 30_000);
    const victim: Victim = { user, password, key, tokenId, sessionId: session!.id, spareLease: await lease() };
    const before = await accountOf(victim);
    const expired = await (await createSigner(stack.signingKeys.privateKey, -60)).sign(principalOf(user));

    const forwards = gatewayForwards(stack.routes);
    const forwarded = forwards.map(pathPattern);
    const mutating = stack.routes.filter((route) => mutatingMethods.has(route.method) && !(route.service === 'gateway' && forwards.includes(route.url)));
    const names = [...new Set(mutating.map(routeName))].sort();
    // The tables above must name every route there is, and no route that is gone.
    expect(names.filter((name) => !(name in attacks) && !(name in publicByDesign))).toEqual([]);
    expect(Object.keys({ ...attacks, ...publicByDesign }).filter((name) => !names.includes(name))).toEqual([]);

    const refusals: string[] = [];
    for (const route of mutating.filter((r) => !(routeName(r) in publicByDesign))) {
      const attack = attacks[routeName(route)]!(victim);
      const path = fillParams(route.url, attack.params ?? {});
      const throughGateway = forwarded.some((pattern) => pattern.test(path));
      // Only service-to-service routes may be out of the gateway's reach; they are called at the service itself.
      expect([routeName(route), throughGateway || route.service === 'gateway' || route.url.startsWith('/internal/')]).toEqual([routeName(route), true]);
      const base = throughGateway || route.service === 'gateway' ? stack.gatewayUrl : serviceUrl(route.service);
      const call = async (token: string | undefined) => {
        const response = await new ApiClient(base, token, 30_000).request(route.method, path, attack.body);
        return [response.status, response.json?.code ?? ''];
      };
      const code = expect.stringMatching(/^[A-Z][A-Z_]+$/);
      expect([routeName(route), 'no token', ...await call(undefined)]).toEqual([routeName(route), 'no token', 401, code]);
      // Service routes want the service credential, which no user token is.
      const expiredCode = route.url.startsWith('/internal/') ? 'SERVICE_CREDENTIAL_REQUIRED' : 'TOKEN_EXPIRED';
      expect([routeName(route), 'expired', ...await call(expired)]).toEqual([routeName(route), 'expired', 401, expiredCode]);
      const [status, answered] = await call(attacker.accessToken);
      expect([routeName(route), 'other user', status, answered]).toEqual([routeName(route), 'other user', ...attack.expect]);
      expect([routeName(route), attack.expect[0] < 400]).toEqual([routeName(route), routeName(route) in selfScoped]);
      refusals.push(`${routeName(route)} → ${status} ${answered || "(the caller's own account)"}`);
    }

    expect(await accountOf(victim)).toEqual(before);
    expect((await api.request('POST', '/api/v1/auth/login', { login: 'victim', password })).status).toBe(200);
    expect((await user.request('DELETE', `/api/v1/pairing/port/${victim.spareLease.leaseId}`)).status).toBe(204);
    console.log(`routes: ${names.length} mutating routes in the ${new Set(stack.routes.map((r) => r.service)).size} running apps; `
      + `${Object.keys(publicByDesign).length} public by design, ${Object.keys(selfScoped).length} self-scoped, the rest refused:\n  ${refusals.join('\n  ')}`);
  });
});
