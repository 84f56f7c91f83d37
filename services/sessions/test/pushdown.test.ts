import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { announceTunnelBox, auditQueries, describeScans, generateSshKey, monitoredMongoUrl, scanningQueries, testAmqpUrl } from '@tmuxme/testing';
import { Accounts, buildSessionsApp, defaultBox, readSnapshot, sessionsOptions, type SessionsApp } from './sessions-app.js';

/**
 * FerretDB v1 answers a filter from an index only when it is exactly `{_id: value}`; anything else reads
 * the whole collection. Every query the hot paths send is recorded here and explained by the store.
 * Left out: the outbox's staging collection (the relay's in-flight queue, not a request path) and the
 * sweeper, which is off here (it is the one part that reads whole collections, between requests).
 */
const serviceToken = 'a-service-credential-for-boxes';
let app: SessionsApp;
let accounts: Accounts;
let options: Awaited<ReturnType<typeof sessionsOptions>>;

beforeAll(async () => {
  options = await sessionsOptions({ serviceToken, sweepIntervalMs: 3_600_000 });
  options.mongoUrl = monitoredMongoUrl(options.mongoUrl);
  app = await buildSessionsApp(options);
  accounts = await Accounts.connect(options);
});
afterAll(async () => {
  await Promise.all([app?.close(), accounts?.close()]);
});

describe('the queries of the hot paths', () => {
  it('are all exact _id lookups: lease, declare, heartbeat, list, get, move, give back, end, snapshot pages and the events', async () => {
    const audit = auditQueries(app.db, { except: ['outbox'] });
    const host = await accounts.register(app, 'hal');
    const guest = await accounts.register(app, 'gus');
    const boxTwo = { ...await defaultBox(), boxId: 'box-2', tunnelHost: 'box-2.example.org', hostKey: (await generateSshKey()).publicKey };
    await announceTunnelBox(testAmqpUrl(), options.exchange!, boxTwo);
    const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, auth = host.auth) => {
      const response = await app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
      expect(response.statusCode).toBeLessThan(300);
      return response.statusCode === 204 ? undefined : response.json();
    };

    const first = await call('GET', '/api/v1/pairing/port?avoidBox=box-2');
    const session = await call('POST', '/api/v1/pairing/sessions', { port: first.port, leaseId: first.leaseId, guests: ['gus'] });
    await call('POST', '/api/v1/pairing/sessions', { port: (await call('GET', '/api/v1/pairing/port?avoidBox=box-2')).port, guests: ['gus'] });
    await call('POST', `/api/v1/pairing/sessions/${session.id}/heartbeat`);
    expect(await call('GET', '/api/v1/pairing/sessions')).toHaveLength(2);
    expect(await call('GET', '/api/v1/pairing/sessions', undefined, guest.auth)).toHaveLength(2);
    await call('GET', `/api/v1/pairing/sessions/${session.id}`, undefined, guest.auth);
    const second = await call('GET', '/api/v1/pairing/port?avoidBox=box-1');
    await call('POST', `/api/v1/pairing/sessions/${session.id}/move`, { leaseId: second.leaseId });
    await call('DELETE', `/api/v1/pairing/port/${(await call('GET', '/api/v1/pairing/port')).leaseId}`);
    expect(await readSnapshot(app, 'leases', 'box-1', serviceToken, 1)).toHaveLength(1);
    expect(await readSnapshot(app, 'sessions', 'box-2', serviceToken, 1)).toHaveLength(1);
    await call('DELETE', `/api/v1/pairing/sessions/${session.id}`);
    await accounts.remove('hal');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    audit.stop();

    expect(audit.queries.length).toBeGreaterThan(30);
    expect(new Set(audit.queries.map((q) => q.collection))).toEqual(new Set([
      'users', 'usernames', 'leases', 'sessions', 'endings', 'port_claims', 'lease_slots', 'boxes', 'processed_events',
    ]));
    expect(describeScans(await scanningQueries(app.db, audit.queries))).toBe('');
  });
});
