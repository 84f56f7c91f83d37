import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, eventually, generateSshKey, testAmqpUrl } from '@tmuxme/testing';
import { ApiClient, startStack, type Stack } from '../src/index.js';

/** A pairing session's whole story through the gateway, accounts' events feeding sessions on a real broker. */
let stack: Stack;
let spy: EventSpy;
let api: ApiClient;

beforeAll(async () => {
  stack = await startStack({ mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl() });
  spy = await EventSpy.start(testAmqpUrl(), stack.exchange);
  api = new ApiClient(stack.gatewayUrl);
});
afterAll(async () => {
  await stack?.close();
  await spy?.stop();
});

describe('pairing through the gateway', () => {
  it('leases a port, declares a session, lists it as a guest, heartbeats and ends it', async () => {
    const { user: host } = await api.signup('pat');
    const { user: alice } = await api.signup('alice');
    const { user: bob } = await api.signup('bob');

    const lease = await host.request('GET', '/api/v1/pairing/port');
    expect(lease.status).toBe(200);
    const [boxKeyType, boxKeyBlob] = stack.tunnelBox.hostKey.split(' ');
    expect(lease.json).toMatchObject({ tunnelHost: '127.0.0.1', tunnelPort: 2222, tunnelHostKey: `${boxKeyType} ${boxKeyBlob}` });
    const { port, leaseId } = lease.json;

    // Sessions learns of the guests from UserRegistered, which may still be on its way.
    const hostKey = await generateSshKey('ed25519');
    const declared = await eventually(async () => {
      const response = await host.request('POST', '/api/v1/pairing/sessions', { port, guests: ['Alice', { username: 'bob', access: 'ro' }], hostKey: hostKey.publicKey });
      return response.status === 201 ? response : undefined;
    });
    const session = declared!.json;
    expect(session).toMatchObject({
      role: 'host', host: { username: 'pat' }, port, tunnelHost: '127.0.0.1', joinCommand: `ssh -p ${port} tmuxme@127.0.0.1`,
      guests: [{ username: 'alice', access: 'rw' }, { username: 'bob', access: 'ro' }], hostKeyFingerprint: hostKey.fingerprint,
    });
    expect(session.pinnedJoinCommand).toContain(`KnownHostsCommand="/bin/echo %H ${hostKey.publicKey.split(' ').slice(0, 2).join(' ')}"`);

    const listed = await alice.request('GET', '/api/v1/pairing/sessions');
    expect(listed.json).toEqual([{ ...session, role: 'guest' }]);
    expect((await bob.request('GET', `/api/v1/pairing/sessions/${session.id}`)).json).toMatchObject({ id: session.id, role: 'guest' });

    const beat = await host.request('POST', `/api/v1/pairing/sessions/${session.id}/heartbeat`);
    expect(beat.status).toBe(200);
    expect(Date.parse(beat.json.expiresAt)).toBeGreaterThanOrEqual(Date.parse(session.expiresAt));
    expect((await alice.request('DELETE', `/api/v1/pairing/sessions/${session.id}`)).json).toMatchObject({ statusCode: 403, code: 'NOT_SESSION_HOST' });

    expect((await host.request('DELETE', `/api/v1/pairing/sessions/${session.id}`)).status).toBe(204);
    expect((await alice.request('GET', '/api/v1/pairing/sessions')).json).toEqual([]);

    const [registered] = spy.ofType('UserRegistered').filter((e) => e.data.username === 'pat');
    const [leased] = await spy.waitFor('PortLeased');
    const [declaredEvent] = await spy.waitFor('SessionDeclared');
    const [ended] = await spy.waitFor('SessionEnded');
    const [released] = await spy.waitFor('PortReleased');
    expect(leased!.data).toMatchObject({ leaseId, port, userId: registered!.data.userId, username: 'pat' });
    expect(declaredEvent!.data).toMatchObject({ sessionId: session.id, guests: session.guests, pinnedJoinCommand: session.pinnedJoinCommand });
    expect(ended!.data).toEqual({ sessionId: session.id, boxId: 'box-1', reason: 'ended' });
    expect(released!.data).toMatchObject({ leaseId, port });
    // The gateway's request ids, carried into the events.
    for (const event of [leased, declaredEvent, ended, released]) expect(event!.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a port that is not leased to the caller, through the gateway too', async () => {
    const { user: owner } = await api.signup('quinn');
    const { user: other } = await api.signup('rosa');
    const { port } = (await owner.request('GET', '/api/v1/pairing/port')).json;
    const response = await eventually(async () => {
      const attempt = await other.request('POST', '/api/v1/pairing/sessions', { port, guests: ['quinn'] });
      return attempt.json?.code === 'UNKNOWN_GUESTS' ? undefined : attempt;
    });
    expect(response!.json).toMatchObject({ statusCode: 403, code: 'PORT_NOT_LEASED' });
  });
});
