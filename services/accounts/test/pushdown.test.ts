import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { InjectOptions } from 'fastify';
import { auditQueries, describeScans, monitoredMongoUrl, scanningQueries, testMongoUrl, uniqueName } from '@tmuxme/testing';
import { accountsOptions, buildAccountsApp } from './accounts-app.js';

/**
 * FerretDB v1 answers a filter from an index only when it is exactly `{ _id: value }`; anything else reads
 * and decodes the whole collection. Every request path of accounts is driven here, and every filter its
 * driver sends is asked to explain itself. (The outbox's staging collection is the relay's small in-flight
 * queue, on no request path.)
 */
let app: Awaited<ReturnType<typeof buildAccountsApp>>;

beforeAll(async () => {
  app = await buildAccountsApp(accountsOptions({
    mongoUrl: monitoredMongoUrl(testMongoUrl(uniqueName('accounts'))),
    // Once every 60 intervals the relay sweeps for tombstones left behind, a scan by design (packages/bus);
    // a long interval keeps that out of this test.
    outboxIntervalMs: 60_000,
  }));
});
afterAll(async () => {
  await app?.close();
});

const password = 'correct horse battery';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

it('looks up, updates and deletes by exact _id only, on every request path', async () => {
  const audit = auditQueries(app.db, { except: ['outbox'] });
  const send = async (status: number, request: InjectOptions & { url: string }) => {
    const response = await app.inject(request);
    expect({ url: request.url, status: response.statusCode }).toEqual({ url: request.url, status });
    return response.body ? response.json() : null;
  };

  const { apiToken } = await send(201, { method: 'POST', url: '/api/v1/users', payload: { username: 'pat', email: 'pat@example.com', password, passwordConfirmation: password } });
  await send(409, { method: 'POST', url: '/api/v1/users', payload: { username: 'pat', email: 'pat2@example.com', password, passwordConfirmation: password } });
  await send(409, { method: 'POST', url: '/api/v1/users', payload: { username: 'pat2', email: 'pat@example.com', password, passwordConfirmation: password } });
  await send(200, { method: 'POST', url: '/api/v1/auth/login', payload: { login: 'pat', password } });
  await send(200, { method: 'POST', url: '/api/v1/auth/login', payload: { login: 'pat@example.com', password } });
  await send(401, { method: 'POST', url: '/api/v1/auth/login', payload: { login: 'pat', password: 'not the password' } });
  await send(401, { method: 'POST', url: '/api/v1/auth/login', payload: { login: 'nobody', password } });
  const { accessToken } = await send(200, { method: 'POST', url: '/api/v1/auth/token', headers: { authorization: `Token ${apiToken}` } });
  await send(401, { method: 'POST', url: '/api/v1/auth/token', headers: { authorization: `Token tmx_${'Z'.repeat(40)}` } });
  await send(200, { url: '/api/v1/user', headers: bearer(accessToken) });
  const created = await send(201, { method: 'POST', url: '/api/v1/user/tokens', headers: bearer(accessToken), payload: { name: 'laptop' } });
  await send(200, { url: '/api/v1/user/tokens', headers: bearer(accessToken) });
  await send(204, { method: 'DELETE', url: `/api/v1/user/tokens/${created.id}`, headers: bearer(accessToken) });
  await send(404, { method: 'DELETE', url: `/api/v1/user/tokens/${created.id}`, headers: bearer(accessToken) });
  await send(200, { method: 'PATCH', url: '/api/v1/user', headers: bearer(accessToken), payload: { currentPassword: password, email: 'pat@new.example' } });
  await send(200, { method: 'PATCH', url: '/api/v1/user', headers: bearer(accessToken), payload: { currentPassword: password, password: 'another good secret' } });
  await send(204, { method: 'DELETE', url: '/api/v1/user', headers: bearer(accessToken), payload: { password: 'another good secret' } });
  await send(401, { url: '/api/v1/user', headers: bearer(accessToken) });
  audit.stop();

  expect(audit.queries.length).toBeGreaterThan(0);
  const scans = await scanningQueries(app.db, audit.queries);
  expect(describeScans(scans)).toBe('');
});
