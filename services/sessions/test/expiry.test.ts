import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, eventually, testAmqpUrl, type SpiedEvent } from '@tmuxme/testing';
import { Accounts, buildSessionsApp, sessionsOptions, type SessionsApp } from './sessions-app.js';

/**
 * Two replicas on one database, both sweeping every 50 ms: leases and sessions that run out end once,
 * with one PortReleased and one SessionEnded each (the relays may deliver an event twice, under one id).
 */
let one: SessionsApp;
let two: SessionsApp;
let accounts: Accounts;
let spy: EventSpy;
let auth: Record<'host' | 'guest', { authorization: string }>;

beforeAll(async () => {
  const options = await sessionsOptions({ leaseTtlMs: 600, sessionTtlMs: 900, sweepIntervalMs: 50 });
  one = await buildSessionsApp(options);
  two = await buildSessionsApp({ ...options, queue: `${options.queue}-2` });
  accounts = await Accounts.connect(options);
  auth = { host: (await accounts.register(one, 'ivy')).auth, guest: (await accounts.register(one, 'jack')).auth };
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!, '#');
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close(), accounts?.close(), spy?.stop()]);
});

const distinctIds = (events: SpiedEvent[]) => new Set(events.map((e) => e.id)).size;
const settle = () => new Promise((r) => setTimeout(r, 1500));

describe('expiry with two sweepers', () => {
  it('an unconfirmed lease expires: PortReleased once, and its port and slot are free again', async () => {
    const { leaseId, port } = (await one.inject({ url: '/api/v1/pairing/port', headers: auth.host })).json();
    await eventually(() => spy.ofType('PortReleased').some((e) => e.data.leaseId === leaseId));
    await settle();
    const released = spy.ofType('PortReleased').filter((e) => e.data.leaseId === leaseId);
    expect(distinctIds(released)).toBe(1);
    expect(released[0]!.data).toEqual({ leaseId, userId: 'u-ivy', username: 'ivy', boxId: 'box-1', tunnelHost: '127.0.0.1', port });
    expect(await one.db.collection('port_claims').countDocuments()).toBe(0);
    expect(await one.db.collection('lease_slots').countDocuments()).toBe(0);
    const late = await two.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: auth.host, payload: { port, guests: ['jack'] } });
    expect(late.json()).toMatchObject({ statusCode: 403, code: 'PORT_NOT_LEASED' });
  });

  it('a session without heartbeats expires: SessionEnded (expired) and PortReleased, once each', async () => {
    const { leaseId, port } = (await one.inject({ url: '/api/v1/pairing/port', headers: auth.host })).json();
    const declared = await two.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: auth.host, payload: { port, guests: ['jack'] } });
    expect(declared.statusCode).toBe(201);
    const { id } = declared.json();
    // Heartbeats keep it past its lease's own time and its first time to live, through either replica.
    for (const app of [one, two, one]) {
      await new Promise((r) => setTimeout(r, 400));
      expect((await app.inject({ method: 'POST', url: `/api/v1/pairing/sessions/${id}/heartbeat`, headers: auth.host })).statusCode).toBe(200);
    }
    expect(spy.ofType('SessionEnded')).toEqual([]);
    expect((await two.inject({ url: '/api/v1/pairing/sessions', headers: auth.guest })).json()).toHaveLength(1);

    await eventually(() => spy.ofType('SessionEnded').length > 0 && spy.ofType('PortReleased').some((e) => e.data.leaseId === leaseId));
    await settle();
    const ended = spy.ofType('SessionEnded');
    expect(distinctIds(ended)).toBe(1);
    expect(ended[0]!.data).toEqual({ sessionId: id, boxId: 'box-1', reason: 'expired' });
    expect(distinctIds(spy.ofType('PortReleased').filter((e) => e.data.leaseId === leaseId))).toBe(1);
    expect((await one.inject({ url: '/api/v1/pairing/sessions', headers: auth.guest })).json()).toEqual([]);
    expect(await one.db.collection('port_claims').countDocuments()).toBe(0);
  });
});
