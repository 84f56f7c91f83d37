import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ndjsonLines } from '@tmuxme/testing';
import { Accounts, bearerFor, buildSessionsApp, sessionsOptions, type SessionsApp } from './sessions-app.js';

/** The snapshots a tunnel box converges from: services only, live leases and sessions of one box, in one stream each. */
const serviceToken = 'a-service-credential-for-boxes';
let app: SessionsApp;
let accounts: Accounts;

beforeAll(async () => {
  // No sweeping: the test itself leaves sessions expired or half ended, as a crash or a slow sweeper would.
  const options = await sessionsOptions({ serviceToken, sweepIntervalMs: 3_600_000 });
  app = await buildSessionsApp(options);
  accounts = await Accounts.connect(options);
});
afterAll(async () => {
  await Promise.all([app?.close(), accounts?.close()]);
});

const snapshot = (query: string, authorization = `Service ${serviceToken}`, of = 'leases') =>
  app.inject({ url: `/internal/v1/snapshot/${of}?${query}`, headers: { authorization } });

describe('lease snapshot', () => {
  it('refuses callers without the service credential', async () => {
    const user = await bearerFor({ userId: 'u-x', username: 'x' });
    for (const authorization of ['', user.authorization, 'Service not-the-right-credential']) {
      expect((await snapshot('boxId=box-1', authorization)).json()).toMatchObject({ statusCode: 401, code: 'SERVICE_CREDENTIAL_REQUIRED' });
    }
  });

  it('streams the live leases of the box, and of that box only', async () => {
    const leases: { leaseId: string; port: number }[] = [];
    for (const username of ['judy', 'kim', 'liam']) {
      const response = await app.inject({ url: '/api/v1/pairing/port', headers: await bearerFor({ userId: `u-${username}`, username }) });
      expect(response.statusCode).toBe(200);
      leases.push(response.json());
    }
    const response = await snapshot('boxId=box-1');
    expect(response.headers['content-type']).toBe('application/x-ndjson');
    const { items: all, end } = ndjsonLines(response.body);
    expect(end).toEqual({ end: true, count: 3 });
    expect(all.map((l) => l.leaseId).sort()).toEqual(leases.map((l) => l.leaseId).sort());
    expect(all[0]).toMatchObject({ userId: expect.stringMatching(/^u-/), boxId: 'box-1', tunnelHost: '127.0.0.1', port: expect.any(Number), private: false });
    expect(ndjsonLines((await snapshot('boxId=other-box')).body)).toEqual({ items: [], end: { end: true, count: 0 } });
    expect((await snapshot('after=zzz&boxId=box-1')).json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect((await snapshot('')).json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
  });
});

describe('session snapshot', () => {
  const sessionSnapshot = (query: string, authorization?: string) => snapshot(query, authorization, 'sessions');
  const declareAs = async (host: string, guests: string[], query = '') => {
    const { auth } = await accounts.register(app, host);
    const { port } = (await app.inject({ url: `/api/v1/pairing/port${query}`, headers: auth })).json();
    const payload = { port, guests, ...(query ? { private: true } : {}) };
    const response = await app.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: auth, payload });
    expect(response.statusCode).toBe(201);
    return { id: response.json().id as string, port: port as number, auth };
  };

  it('refuses callers without the service credential, and a query it does not know', async () => {
    const user = await bearerFor({ userId: 'u-x', username: 'x' });
    for (const authorization of ['', user.authorization, 'Service not-the-right-credential']) {
      expect((await sessionSnapshot('boxId=box-1', authorization)).json()).toMatchObject({ statusCode: 401, code: 'SERVICE_CREDENTIAL_REQUIRED' });
    }
    expect((await sessionSnapshot('boxId=box-1&private=true')).json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', field: 'private' });
    expect((await sessionSnapshot('')).json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', field: 'boxId' });
  });

  it('streams each live session of the box with its host and guests, and none that is over', async () => {
    for (const name of ['ann', 'ben', 'cy']) await accounts.register(app, name);
    const open = await declareAs('olive', ['ann', 'ben']);
    const hidden = await declareAs('pam', ['cy'], '?private=true');
    const ended = await declareAs('rex', ['ann']);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/pairing/sessions/${ended.id}`, headers: ended.auth })).statusCode).toBe(204);
    // Ended, but its replica died before marking the document gone.
    const halfEnded = await declareAs('sam', ['ben']);
    await app.db.collection('endings').insertOne({ _id: `session:${halfEnded.id}` as never, reason: 'ended', createdAt: new Date() });
    // Past its heartbeat, with no sweeper to end it yet.
    const lapsed = await declareAs('tess', ['cy']);
    await app.db.collection('sessions').updateOne({ port: lapsed.port }, { $set: { expiresAt: new Date(Date.now() - 1000) } });

    const response = await sessionSnapshot('boxId=box-1');
    expect(response.headers['content-type']).toBe('application/x-ndjson');
    const { items, end } = ndjsonLines(response.body);
    expect(end).toEqual({ end: true, count: 2 });
    expect(items.sort((a, b) => Number(a.port) - Number(b.port))).toEqual([
      { sessionId: open.id, hostUserId: 'u-olive', port: open.port, guestUserIds: ['u-ann', 'u-ben'] },
      { sessionId: hidden.id, hostUserId: 'u-pam', port: hidden.port, guestUserIds: ['u-cy'] },
    ].sort((a, b) => a.port - b.port));
    expect(ndjsonLines((await sessionSnapshot('boxId=other-box')).body)).toEqual({ items: [], end: { end: true, count: 0 } });

    const leases = ndjsonLines((await snapshot('boxId=box-1')).body).items;
    expect(leases.find((l) => l.port === hidden.port)).toMatchObject({ userId: 'u-pam', private: true });
    expect(leases.find((l) => l.port === open.port)).toMatchObject({ userId: 'u-olive', private: false });
  });
});
