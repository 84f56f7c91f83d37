import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, generateSshKey, testAmqpUrl, type TunnelBoxAnnouncement } from '@tmuxme/testing';
import { Accounts, bearerFor, buildSessionsApp, defaultBox, readSnapshot, sessionsOptions, type SessionsApp } from './sessions-app.js';

/** A host that lost its box moves the session to a port on another box: same id and guests, new box, port and commands. */
const serviceToken = 'a-service-credential-for-boxes';
let app: SessionsApp;
let spy: EventSpy;
let accounts: Accounts;
let boxTwo: TunnelBoxAnnouncement;
const auth: Record<string, { authorization: string }> = {};

beforeAll(async () => {
  const options = await sessionsOptions({ serviceToken });
  boxTwo = { ...await defaultBox(), boxId: 'box-2', tunnelHost: 'box-2.example.org', tunnelPort: 22, hostKey: (await generateSshKey()).publicKey };
  app = await buildSessionsApp(options, { boxes: [await defaultBox(), boxTwo] });
  accounts = await Accounts.connect(options);
  for (const name of ['hugo', 'gina', 'mona']) auth[name] = (await accounts.register(app, name)).auth;
  auth.stranger = await bearerFor({ userId: 'u-stranger', username: 'stranger' });
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!, '#');
});
afterAll(async () => {
  await Promise.all([app?.close(), spy?.stop(), accounts?.close()]);
});

const lease = async (who: string, query: string) => (await app.inject({ url: `/api/v1/pairing/port${query}`, headers: auth[who] })).json();
const declare = async (who: string, leased: { port: number; leaseId: string }, guests = ['gina']) =>
  (await app.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: auth[who], payload: { port: leased.port, leaseId: leased.leaseId, guests } })).json();
const move = (who: string, sessionId: string, body: unknown) =>
  app.inject({ method: 'POST', url: `/api/v1/pairing/sessions/${sessionId}/move`, headers: { ...auth[who], 'content-type': 'application/json' }, payload: JSON.stringify(body) });
const snapshot = (boxId: string) => readSnapshot(app, 'sessions', boxId, serviceToken);

describe('POST /api/v1/pairing/sessions/:id/move', () => {
  it('moves the session to the new lease: SessionMoved to the new box, the old lease released to the old one', async () => {
    const first = await lease('hugo', '?avoidBox=box-2');
    const session = await declare('hugo', first);
    expect(session).toMatchObject({ boxId: 'box-1', port: first.port });
    const second = await lease('hugo', '?avoidBox=box-1');
    expect(second.boxId).toBe('box-2');

    const response = await move('hugo', session.id, { leaseId: second.leaseId });
    expect(response.statusCode).toBe(200);
    const moved = response.json();
    expect(moved).toMatchObject({
      id: session.id, boxId: 'box-2', tunnelHost: 'box-2.example.org', tunnelPort: 22, port: second.port, guests: session.guests,
      joinCommand: `ssh -p ${second.port} tmuxme@box-2.example.org`, tunnelHostKey: second.tunnelHostKey,
    });
    expect((await app.inject({ url: `/api/v1/pairing/sessions/${session.id}`, headers: auth.gina })).json()).toEqual({ ...moved, role: 'guest' });

    const [event] = await spy.waitFor('SessionMoved');
    expect(event).toMatchObject({
      routingKey: 'session.moved.box-2',
      data: {
        sessionId: session.id, boxId: 'box-2', host: { userId: 'u-hugo', username: 'hugo' }, guests: [{ userId: 'u-gina', username: 'gina', access: 'rw' }],
        from: { boxId: 'box-1', tunnelHost: '127.0.0.1', port: first.port }, to: { boxId: 'box-2', tunnelHost: 'box-2.example.org', tunnelPort: 22, port: second.port },
        joinCommand: moved.joinCommand, jumpJoinCommand: moved.jumpJoinCommand, private: false,
      },
    });
    const released = await spy.waitFor('PortReleased');
    expect(released.find((e) => e.data.leaseId === first.leaseId)).toMatchObject({ routingKey: 'port.released.box-1', data: { port: first.port } });
    expect(await app.db.collection('port_claims').countDocuments({ leaseId: first.leaseId })).toBe(0);
    expect((await snapshot('box-2')).map((s) => s.sessionId)).toEqual([session.id]);
    expect(await snapshot('box-1')).toEqual([]);

    // Moving again onto the lease it is on changes nothing: a retried request is harmless.
    expect((await move('hugo', session.id, { leaseId: second.leaseId })).json()).toEqual(moved);
    expect((await app.inject({ method: 'POST', url: `/api/v1/pairing/sessions/${session.id}/heartbeat`, headers: auth.hugo })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/pairing/sessions/${session.id}`, headers: auth.hugo })).statusCode).toBe(204);
    const [ended] = await spy.waitFor('SessionEnded');
    expect(ended).toMatchObject({ routingKey: 'session.ended.box-2', data: { sessionId: session.id, boxId: 'box-2' } });
    expect(spy.ofType('SessionMoved')).toHaveLength(1);
  });

  describe('refuses, changing nothing', () => {
    let session: { id: string; port: number };
    let free: { leaseId: string };
    let fixtures: Record<string, string>;

    beforeAll(async () => {
      session = await declare('hugo', await lease('hugo', '?avoidBox=box-2'));
      free = await lease('hugo', '?avoidBox=box-1');
      const other = await declare('hugo', await lease('hugo', '?avoidBox=box-1'), ['mona']);
      fixtures = {
        mona: (await lease('mona', '')).leaseId, private: (await lease('hugo', '?private=true&avoidBox=box-1')).leaseId,
        inSession: (await app.db.collection('sessions').findOne({ port: other.port }))!.leaseId,
      };
      // Everything the set-up published is out before the cases count events.
      await spy.waitFor('PortLeased', 7);
      await spy.waitFor('SessionDeclared', 3);
    });

    it.each([
      ['a guest of the session', 'gina', () => session.id, () => ({ leaseId: free.leaseId }), 403, 'NOT_SESSION_HOST'],
      ['someone with no part in it', 'stranger', () => session.id, () => ({ leaseId: free.leaseId }), 404, 'SESSION_NOT_FOUND'],
      ['a session id that is not one', 'hugo', () => 'nope', () => ({ leaseId: free.leaseId }), 404, 'SESSION_NOT_FOUND'],
      ["another user's lease", 'hugo', () => session.id, () => ({ leaseId: fixtures.mona }), 404, 'LEASE_NOT_FOUND'],
      ['a lease id that is not one', 'hugo', () => session.id, () => ({ leaseId: '{"$ne":null}' }), 404, 'LEASE_NOT_FOUND'],
      ['a lease carrying another session', 'hugo', () => session.id, () => ({ leaseId: fixtures.inSession }), 409, 'LEASE_IN_SESSION'],
      ['a private lease for a public session', 'hugo', () => session.id, () => ({ leaseId: fixtures.private }), 400, 'PRIVATE_MISMATCH'],
      ['an operator for the lease id', 'hugo', () => session.id, () => ({ leaseId: { $ne: null } }), 400, 'VALIDATION_FAILED'],
      ['no lease id', 'hugo', () => session.id, () => ({}), 400, 'VALIDATION_FAILED'],
      ['more than a lease id', 'hugo', () => session.id, () => ({ leaseId: free.leaseId, port: 1 }), 400, 'VALIDATION_FAILED'],
    ])('moving with %s', async (_name, who, id, body, status, code) => {
      const before = await app.db.collection('sessions').findOne({ port: session.port });
      const events = spy.events.length;
      const response = await move(who, id(), body());
      expect(response.statusCode).toBe(status);
      expect(response.json()).toMatchObject({ code, message: expect.any(String) });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await app.db.collection('sessions').findOne({ port: session.port })).toEqual(before);
      expect(spy.events.length).toBe(events);
    });
  });
});
