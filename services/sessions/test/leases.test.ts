import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, testAmqpUrl } from '@tmuxme/testing';
import { Accounts, bearerFor, buildSessionsApp, defaultBox, sessionsOptions, tunnelBoxKey, type SessionsApp } from './sessions-app.js';

/** Leasing ports: what a lease says, the per-user cap, and a range that runs out. */
let app: SessionsApp;
let small: SessionsApp;
let spy: EventSpy;
let accounts: Accounts;

beforeAll(async () => {
  const options = await sessionsOptions();
  app = await buildSessionsApp(options);
  accounts = await Accounts.connect(options);
  // Three ports only, to run the range out (on exchanges of its own: the other app must not hear of this box).
  small = await buildSessionsApp(await sessionsOptions(), {
    boxes: [{ ...await defaultBox(), boxId: 'small', tunnelHost: 'tunnel.example.org', portRange: { from: 21000, to: 21002 } }],
  });
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!, 'port.#');
});
afterAll(async () => {
  await Promise.all([app?.close(), small?.close(), spy?.stop(), accounts?.close()]);
});

const lease = async (target: SessionsApp, username: string, headers: Record<string, string> = {}) =>
  target.inject({ url: '/api/v1/pairing/port', headers: { ...await bearerFor({ userId: `u-${username}`, username }), ...headers } });

describe('GET /api/v1/pairing/port', () => {
  it('leases a free port on the box, with its host key, and publishes PortLeased', async () => {
    const before = Date.now();
    const response = await lease(app, 'alice', { 'x-request-id': 'req-lease' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    const [type, blob] = (await tunnelBoxKey()).publicKey.split(' ');
    expect(body).toEqual({
      port: expect.any(Number), boxId: 'box-1', tunnelHost: '127.0.0.1', tunnelPort: 2222, tunnelHostKey: `${type} ${blob}`,
      leaseId: expect.stringMatching(/^[0-9a-f]{24}$/), expiresAt: expect.any(String), private: false, tunnelUser: 'tunnel',
    });
    expect(body.port).toBeGreaterThanOrEqual(20000);
    expect(body.port).toBeLessThanOrEqual(29999);
    expect(Date.parse(body.expiresAt) - before).toBeGreaterThanOrEqual(119_000);
    expect(Date.parse(body.expiresAt) - before).toBeLessThanOrEqual(121_000);

    const [event] = await spy.waitFor('PortLeased');
    expect(event).toMatchObject({
      producer: 'sessions', routingKey: 'port.leased.box-1', requestId: 'req-lease',
      data: { leaseId: body.leaseId, userId: 'u-alice', username: 'alice', boxId: 'box-1', tunnelHost: '127.0.0.1', port: body.port, expiresAt: body.expiresAt, private: false },
    });
    expect(await app.db.collection('leases').findOne({ port: body.port })).toMatchObject({ private: false, tunnelHostKey: `${type} ${blob}` });
  });

  it('leases a private port with ?private=true, for the private tunnel user, and PortLeased says so; ?private=false is public', async () => {
    const [privateLease, publicLease] = await Promise.all(['true', 'false'].map(async (value) => {
      const response = await app.inject({ url: `/api/v1/pairing/port?private=${value}`, headers: await bearerFor({ userId: 'u-olga', username: 'olga' }) });
      expect(response.statusCode).toBe(200);
      return response.json();
    }));
    expect(privateLease).toMatchObject({ private: true, tunnelUser: 'tunnel-private', tunnelHost: '127.0.0.1', tunnelPort: 2222 });
    expect(publicLease).toMatchObject({ private: false, tunnelUser: 'tunnel' });
    const leased = await spy.waitFor('PortLeased', 3);
    expect(leased.find((e) => e.data.leaseId === privateLease.leaseId)).toMatchObject({ data: { port: privateLease.port, userId: 'u-olga', private: true } });
    expect(leased.find((e) => e.data.leaseId === publicLease.leaseId)).toMatchObject({ data: { private: false } });
    expect(await app.db.collection('leases').findOne({ port: privateLease.port })).toMatchObject({ private: true, tunnelHostKey: privateLease.tunnelHostKey });
  });

  it('holds a user to five live leases: the sixth gets 429 and nothing is published for it', async () => {
    const ports = [];
    for (let i = 0; i < 5; i += 1) ports.push((await lease(app, 'bob')).json().port);
    expect(new Set(ports).size).toBe(5);
    const sixth = await lease(app, 'bob');
    expect(sixth.json()).toMatchObject({ statusCode: 429, code: 'TOO_MANY_LEASES', message: expect.stringContaining('5 port leases') });
    await spy.waitFor('PortLeased', 8);
    await new Promise((r) => setTimeout(r, 500));
    expect(spy.ofType('PortLeased').filter((e) => e.data.username === 'bob')).toHaveLength(5);
    expect(await app.db.collection('lease_slots').countDocuments({ scope: 'u-bob' })).toBe(5);
    expect((await lease(app, 'carol')).statusCode).toBe(200);
  });

  it('answers 503 NO_FREE_PORT with Retry-After once every port of the range is leased', async () => {
    const ports = [];
    for (const name of ['dave', 'erin', 'frank']) ports.push((await lease(small, name)).json().port);
    expect(ports.sort()).toEqual([21000, 21001, 21002]);
    const full = await lease(small, 'grace');
    expect(full.statusCode).toBe(503);
    expect(full.json()).toMatchObject({ code: 'NO_FREE_PORT' });
    expect(full.headers['retry-after']).toBe('30');
    expect(await small.db.collection('lease_slots').countDocuments({ scope: 'u-grace' })).toBe(0);
    expect(await small.db.collection('leases').countDocuments()).toBe(3);
  });

  it('refuses without a valid token', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }]) {
      const response = await app.inject({ url: '/api/v1/pairing/port', headers });
      expect(response.statusCode).toBe(401);
    }
  });
});

describe('DELETE /api/v1/pairing/port/:leaseId', () => {
  const giveBack = async (leaseId: string, username: string) =>
    app.inject({ method: 'DELETE', url: `/api/v1/pairing/port/${leaseId}`, headers: await bearerFor({ userId: `u-${username}`, username }) });

  it('hands an unused lease back at once: PortReleased, and the slot is free again', async () => {
    const held = (await lease(app, 'heidi')).json();
    const response = await giveBack(held.leaseId, 'heidi');
    expect(response.statusCode).toBe(204);
    const released = await spy.waitFor('PortReleased');
    expect(released.find((e) => e.data.leaseId === held.leaseId)).toMatchObject({ data: { port: held.port, username: 'heidi' } });
    expect(await app.db.collection('lease_slots').countDocuments({ scope: 'u-heidi' })).toBe(0);
    expect((await giveBack(held.leaseId, 'heidi')).json()).toMatchObject({ statusCode: 404, code: 'LEASE_NOT_FOUND' });
  });

  it('refuses another user\'s lease, a malformed id, and a lease carrying a session, changing nothing', async () => {
    const held = (await lease(app, 'ivan')).json();
    for (const [leaseId, who] of [[held.leaseId, 'judy'], ['{"$ne":null}', 'ivan'], ['000000000000000000000000', 'ivan']]) {
      expect((await giveBack(leaseId!, who!)).json()).toMatchObject({ statusCode: 404, code: 'LEASE_NOT_FOUND', message: expect.any(String) });
    }
    const { auth } = await accounts.register(app, 'ivan');
    await accounts.register(app, 'kate');
    const declared = await app.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: auth, payload: { port: held.port, guests: ['kate'] } });
    expect(declared.statusCode).toBe(201);
    expect((await giveBack(held.leaseId, 'ivan')).json()).toMatchObject({ statusCode: 409, code: 'LEASE_IN_SESSION' });
    expect(spy.ofType('PortReleased').filter((e) => e.data.leaseId === held.leaseId)).toHaveLength(0);
  });
});
