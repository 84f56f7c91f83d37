import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, startStack, type Stack } from '@tmuxme/e2e';
import { ed25519PublicKeyLine, eventually, EventSpy, startFerretDB, testAmqpUrl, type FerretDB } from '@tmuxme/testing';

/**
 * The services' FerretDB process stopped for at least 10 s, then started again on the same port and data: while it
 * is down every service says so on /readyz and answers API calls with 503, Retry-After and a code, never a
 * 500 or a hang; once it is back everything works again, without restarting anything.
 */
const outageMs = 10_000;
/** What a client waits for any one answer: the driver gives up on an unreachable server after 5 s. */
const clientTimeoutMs = 15_000;
const databaseServices = ['accounts', 'keys', 'sessions'] as const;

let ferret: FerretDB;
let stack: Stack;
let spy: EventSpy;

beforeAll(async () => {
  ferret = await startFerretDB();
  stack = await startStack({ mongoUrl: ferret.url, amqpUrl: testAmqpUrl() });
  spy = await EventSpy.start(testAmqpUrl(), stack.exchange);
});
afterAll(async () => {
  await stack?.close();
  await spy?.stop();
  await ferret?.stop();
});

const readiness = (service: (typeof databaseServices)[number]) => stack.servers[service].inject({ url: '/readyz' });

describe('FerretDB stopped for 10 s', () => {
  it('turns readiness false, answers 503 with Retry-After, and resumes by itself', async () => {
    const api = new ApiClient(stack.gatewayUrl, undefined, clientTimeoutMs);
    const { user } = await api.signup('before-outage');
    const kept = await user.request('POST', '/api/v1/user/keys', { key: ed25519PublicKeyLine() });
    expect(kept.status).toBe(201);
    // A session of the user's own, so that listing them needs the database: a list with nothing in it comes from memory.
    await api.signup('guest-before-outage');
    const leased = await user.request('GET', '/api/v1/pairing/port');
    expect(leased.status).toBe(200);
    const { port, leaseId } = leased.json as { port: number; leaseId: string };
    // The guest can be named once sessions has heard of the account.
    await eventually(async () => (await user.request('POST', '/api/v1/pairing/sessions', { port, leaseId, guests: ['guest-before-outage'] })).status === 201, 10_000);
    // Every kind of call: reads and writes of each service, signed in and not.
    const calls = (tag: string): [string, ApiClient, string, string, unknown?][] => [
      ['sign up', api, 'POST', '/api/v1/users', { username: `during-${tag}`, email: `during-${tag}@example.com`, password: 'correct horse battery', passwordConfirmation: 'correct horse battery' }],
      ['log in', api, 'POST', '/api/v1/auth/login', { login: 'before-outage', password: 'correct horse battery' }],
      ['read the account', user, 'GET', '/api/v1/user'],
      ['list keys', user, 'GET', '/api/v1/user/keys'],
      ['add a key', user, 'POST', '/api/v1/user/keys', { key: ed25519PublicKeyLine() }],
      ['lease a port', user, 'GET', '/api/v1/pairing/port'],
      ['list sessions', user, 'GET', '/api/v1/pairing/sessions'],
    ];

    await ferret.halt();
    const haltedAt = Date.now();
    const stoppedLongEnough = sleep(outageMs);
    const everyServiceNotices = Promise.all(databaseServices.map(async (service) => {
      const ready = (await eventually(async () => {
        const response = await readiness(service);
        return response.statusCode === 503 ? response : undefined;
      }, 30_000))!;
      expect(ready.json()).toMatchObject({ ready: false, checks: { database: false } });
      expect(ready.headers['retry-after']).toBeDefined();
    }));
    // Twice: at once the calls meet the dropped connections; once the services know, they wait out the driver's server selection.
    const slowest = { ms: 0, call: '' };
    const round = (tag: string) => Promise.all(calls(tag).map(async ([call, client, method, path, body]) => {
      const sent = Date.now();
      const response = await client.request(method, path, body);
      if (Date.now() - sent > slowest.ms) Object.assign(slowest, { ms: Date.now() - sent, call });
      return { call, status: response.status, retryAfter: response.headers.get('retry-after'), code: response.json?.code };
    }));
    const answers = await round('1');
    await everyServiceNotices;
    answers.push(...await round('2'));
    for (const answer of answers) expect(answer).toEqual({ call: answer.call, status: 503, retryAfter: '5', code: 'DATABASE_UNAVAILABLE' });
    await stoppedLongEnough;

    await ferret.restart();
    const restartedAt = Date.now();
    await eventually(async () => (await Promise.all(databaseServices.map(readiness))).every((response) => response.statusCode === 200), 30_000);
    const readyAfterMs = Date.now() - restartedAt;
    const after = await Promise.all(calls('3').map(async ([call, client, method, path, body]) => ({ call, status: (await client.request(method, path, body)).status })));
    expect(after).toEqual([
      { call: 'sign up', status: 201 }, { call: 'log in', status: 200 }, { call: 'read the account', status: 200 }, { call: 'list keys', status: 200 },
      { call: 'add a key', status: 201 }, { call: 'lease a port', status: 200 }, { call: 'list sessions', status: 200 },
    ]);
    // What was written before the outage is still there, and the outboxes relay again.
    const keys = (await user.request('GET', '/api/v1/user/keys')).json as { id: string }[];
    expect(keys.map((key) => key.id)).toContain(kept.json.id);
    await spy.waitFor('KeyAdded', 2, 30_000);
    await spy.waitFor('PortLeased', 2, 30_000);
    console.log(`database outage: FerretDB stopped ${((restartedAt - haltedAt) / 1000).toFixed(1)} s; ${answers.length} API calls answered 503 + Retry-After, `
      + `the slowest (${slowest.call}) in ${slowest.ms} ms; every service ready again ${readyAfterMs} ms after the restart`);
  }, 90_000);
});
