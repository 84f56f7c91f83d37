import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearerFor, buildSessionsApp, sessionsOptions, type SessionsApp } from './sessions-app.js';

/** The lease snapshot a tunnel box converges from: services only, live leases of one box, page by page. */
const serviceToken = 'a-service-credential-for-boxes';
let app: SessionsApp;

beforeAll(async () => {
  app = await buildSessionsApp(await sessionsOptions({ serviceToken }));
});
afterAll(async () => {
  await app?.close();
});

const snapshot = (query: string, authorization = `Service ${serviceToken}`) =>
  app.inject({ url: `/internal/v1/snapshot/leases?${query}`, headers: { authorization } });

describe('lease snapshot', () => {
  it('refuses callers without the service credential', async () => {
    const user = await bearerFor({ userId: 'u-x', username: 'x' });
    for (const authorization of ['', user.authorization, 'Service not-the-right-credential']) {
      expect((await snapshot('tunnelHost=127.0.0.1', authorization)).json()).toMatchObject({ statusCode: 401, code: 'SERVICE_CREDENTIAL_REQUIRED' });
    }
  });

  it('pages through the live leases of the box, and of that box only', async () => {
    const leases: { leaseId: string; port: number }[] = [];
    for (const username of ['judy', 'kim', 'liam']) {
      const response = await app.inject({ url: '/api/v1/pairing/port', headers: await bearerFor({ userId: `u-${username}`, username }) });
      expect(response.statusCode).toBe(200);
      leases.push(response.json());
    }
    const first = (await snapshot('tunnelHost=127.0.0.1&limit=2')).json();
    const second = (await snapshot(`tunnelHost=127.0.0.1&limit=2&after=${first.next}`)).json();
    expect(second.next).toBeNull();
    const all = [...first.leases, ...second.leases];
    expect(all.map((l: { leaseId: string }) => l.leaseId).sort()).toEqual(leases.map((l) => l.leaseId).sort());
    expect(all[0]).toMatchObject({ userId: expect.stringMatching(/^u-/), tunnelHost: '127.0.0.1', port: expect.any(Number) });
    expect((await snapshot('tunnelHost=other-box')).json()).toEqual({ leases: [], next: null });
    expect((await snapshot('after=zzz&tunnelHost=127.0.0.1')).statusCode).toBe(400);
  });
});
