import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ndjsonLines } from '@tmuxme/testing';
import { bearerFor, buildSessionsApp, sessionsOptions, type SessionsApp } from './sessions-app.js';

/** The lease snapshot a tunnel box converges from: services only, live leases of one box, in one stream. */
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

  it('streams the live leases of the box, and of that box only', async () => {
    const leases: { leaseId: string; port: number }[] = [];
    for (const username of ['judy', 'kim', 'liam']) {
      const response = await app.inject({ url: '/api/v1/pairing/port', headers: await bearerFor({ userId: `u-${username}`, username }) });
      expect(response.statusCode).toBe(200);
      leases.push(response.json());
    }
    const response = await snapshot('tunnelHost=127.0.0.1');
    expect(response.headers['content-type']).toBe('application/x-ndjson');
    const { items: all, end } = ndjsonLines(response.body);
    expect(end).toEqual({ end: true, count: 3 });
    expect(all.map((l) => l.leaseId).sort()).toEqual(leases.map((l) => l.leaseId).sort());
    expect(all[0]).toMatchObject({ userId: expect.stringMatching(/^u-/), tunnelHost: '127.0.0.1', port: expect.any(Number) });
    expect(ndjsonLines((await snapshot('tunnelHost=other-box')).body)).toEqual({ items: [], end: { end: true, count: 0 } });
    expect((await snapshot('after=zzz&tunnelHost=127.0.0.1')).json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect((await snapshot('')).json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
  });
});
