import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, eventually, testAmqpUrl } from '@tmuxme/testing';
import { Accounts, bearerFor, buildSessionsApp, sessionsOptions, type SessionsApp } from './sessions-app.js';

/** Sessions follows accounts through its events: who may be a guest, and what a deleted account takes with it. */
let app: SessionsApp;
let accounts: Accounts;
let spy: EventSpy;

beforeAll(async () => {
  const options = await sessionsOptions();
  app = await buildSessionsApp(options);
  accounts = await Accounts.connect(options);
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!, '#');
});
afterAll(async () => {
  await Promise.all([app?.close(), accounts?.close(), spy?.stop()]);
});

const lease = async (auth: { authorization: string }) => (await app.inject({ url: '/api/v1/pairing/port', headers: auth })).json();
const declare = (auth: { authorization: string }, payload: object) => app.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: auth, payload });
const list = (auth: { authorization: string }) => app.inject({ url: '/api/v1/pairing/sessions', headers: auth });

describe('user events', () => {
  it("a deleted host's sessions end (account-deleted), all its leases are released, and it cannot lease again", async () => {
    const { auth } = await accounts.register(app, 'kate');
    const { auth: guest } = await accounts.register(app, 'liam');
    const first = await lease(auth);
    const second = await lease(auth);
    const session = (await declare(auth, { port: first.port, guests: ['liam'] })).json();
    await spy.waitFor('SessionDeclared');

    await accounts.remove('kate', 'req-delete');
    const [ended] = await spy.waitFor('SessionEnded');
    expect(ended).toMatchObject({ requestId: 'req-delete', data: { sessionId: session.id, reason: 'account-deleted' } });
    const released = await eventually(() => {
      const mine = spy.ofType('PortReleased').filter((e) => e.data.userId === 'u-kate');
      return mine.length === 2 ? mine : undefined;
    });
    expect(new Set(released!.map((e) => e.data.leaseId))).toEqual(new Set([first.leaseId, second.leaseId]));
    expect((await list(guest)).json()).toEqual([]);
    expect(await app.db.collection('port_claims').countDocuments()).toBe(0);
    const late = await app.inject({ url: '/api/v1/pairing/port', headers: auth });
    expect(late.json()).toMatchObject({ statusCode: 401, code: 'ACCOUNT_GONE' });
  });

  it('a deleted guest drops out: it lists nothing, cannot be invited, and a new account with its name sees nothing', async () => {
    const { auth: host } = await accounts.register(app, 'mia');
    const { auth: guest } = await accounts.register(app, 'noah');
    const session = (await declare(host, { port: (await lease(host)).port, guests: ['noah'] })).json();
    expect((await list(guest)).json()).toHaveLength(1);

    await accounts.remove('noah');
    await eventually(async () => (await list(guest)).statusCode === 401);
    expect((await list(guest)).json()).toMatchObject({ code: 'ACCOUNT_GONE' });
    const invite = await declare(host, { port: (await lease(host)).port, guests: ['noah'] });
    expect(invite.json()).toMatchObject({ statusCode: 400, code: 'UNKNOWN_GUESTS', unknownGuests: ['noah'] });
    // The host's session carries on.
    expect((await app.inject({ url: `/api/v1/pairing/sessions/${session.id}`, headers: host })).statusCode).toBe(200);

    const namesake = await bearerFor({ userId: 'u-noah-2', username: 'noah' });
    expect((await list(namesake)).json()).toEqual([]);
  });
});
