import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@tmuxme/testing';
import { Accounts, bearerFor, buildSessionsApp, readSnapshot, sessionsOptions, type SessionsApp } from './sessions-app.js';

/** The snapshots a tunnel box converges from: services only, live leases and sessions of one box, a page at a time. */
const serviceToken = 'a-service-credential-for-boxes';
let app: SessionsApp;
let accounts: Accounts;
let options: Awaited<ReturnType<typeof sessionsOptions>>;

beforeAll(async () => {
  options = await sessionsOptions({ serviceToken, sweepIntervalMs: 3_600_000 });
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

  it('pages through the live leases of the box in id order, and of that box only', async () => {
    const leases: { leaseId: string; port: number }[] = [];
    for (const username of ['judy', 'kim', 'liam']) {
      const response = await app.inject({ url: '/api/v1/pairing/port', headers: await bearerFor({ userId: `u-${username}`, username }) });
      expect(response.statusCode).toBe(200);
      leases.push(response.json());
    }
    const ids = leases.map((l) => l.leaseId).sort();
    const first = (await snapshot('boxId=box-1&limit=2')).json();
    expect(first).toEqual({ items: [expect.objectContaining({ leaseId: ids[0] }), expect.objectContaining({ leaseId: ids[1] })], next: ids[1] });
    expect((await snapshot(`boxId=box-1&limit=2&after=${ids[1]}`)).json()).toEqual({ items: [expect.objectContaining({ leaseId: ids[2] })], next: null });
    const all = await readSnapshot(app, 'leases', 'box-1', serviceToken);
    expect(all.map((l) => l.leaseId)).toEqual(ids);
    expect(all[0]).toMatchObject({ userId: expect.stringMatching(/^u-/), boxId: 'box-1', tunnelHost: '127.0.0.1', port: expect.any(Number), private: false });
    expect((await snapshot('boxId=other-box')).json()).toEqual({ items: [], next: null });

    await app.inject({ method: 'DELETE', url: `/api/v1/pairing/port/${leases[0]!.leaseId}`, headers: await bearerFor({ userId: 'u-judy', username: 'judy' }) });
    expect((await readSnapshot(app, 'leases', 'box-1', serviceToken)).map((l) => l.leaseId)).not.toContain(leases[0]!.leaseId);
  });

  it('refuses a page size or cursor it cannot take', async () => {
    for (const query of ['boxId=box-1&limit=0', 'boxId=box-1&limit=10001', 'boxId=box-1&limit=ten', 'boxId=box-1&after=', '']) {
      expect((await snapshot(query)).json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    }
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

  it('pages through each live session of the box with its host and guests, and none that ended', async () => {
    for (const name of ['ann', 'ben', 'cy']) await accounts.register(app, name);
    const open = await declareAs('olive', ['ann', 'ben']);
    const hidden = await declareAs('pam', ['cy'], '?private=true');
    const ended = await declareAs('rex', ['ann']);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/pairing/sessions/${ended.id}`, headers: ended.auth })).statusCode).toBe(204);

    const items = await readSnapshot(app, 'sessions', 'box-1', serviceToken, 1);
    expect(items).toEqual([
      { sessionId: open.id, hostUserId: 'u-olive', port: open.port, guestUserIds: ['u-ann', 'u-ben'] },
      { sessionId: hidden.id, hostUserId: 'u-pam', port: hidden.port, guestUserIds: ['u-cy'] },
    ].sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1)));
    expect((await sessionSnapshot('boxId=other-box')).json()).toEqual({ items: [], next: null });

    const leases = await readSnapshot(app, 'leases', 'box-1', serviceToken);
    expect(leases.find((l) => l.port === hidden.port)).toMatchObject({ userId: 'u-pam', private: true });
    expect(leases.find((l) => l.port === open.port)).toMatchObject({ userId: 'u-olive', private: false });
    expect(leases.find((l) => l.port === ended.port)).toBeUndefined();
  });

  it("shows what another replica declares and ends, once that replica's events arrive", async () => {
    // The same database and exchange, its own live view.
    const other = await buildSessionsApp({ ...options, queue: `${options.queue}-other` });
    try {
      const { auth } = await accounts.register(other, 'uma');
      await accounts.register(app, 'vic');
      const { port } = (await other.inject({ url: '/api/v1/pairing/port', headers: auth })).json();
      const declared = await other.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: auth, payload: { port, guests: ['vic'] } });
      expect(declared.statusCode).toBe(201);
      const sessionId = declared.json().id as string;
      await eventually(async () => (await readSnapshot(app, 'sessions', 'box-1', serviceToken)).some((s) => s.sessionId === sessionId));
      const asGuest = await bearerFor({ userId: 'u-vic', username: 'vic' });
      expect((await app.inject({ url: '/api/v1/pairing/sessions', headers: asGuest })).json()).toEqual([expect.objectContaining({ id: sessionId, role: 'guest' })]);

      expect((await other.inject({ method: 'DELETE', url: `/api/v1/pairing/sessions/${sessionId}`, headers: auth })).statusCode).toBe(204);
      await eventually(async () => !(await readSnapshot(app, 'sessions', 'box-1', serviceToken)).some((s) => s.sessionId === sessionId));
      await eventually(async () => !(await readSnapshot(app, 'leases', 'box-1', serviceToken)).some((l) => l.port === port));
      expect((await app.inject({ url: '/api/v1/pairing/sessions', headers: asGuest })).json()).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
