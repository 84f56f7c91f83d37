import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, eventually, generateSshKey, testAmqpUrl } from '@tmuxme/testing';
import { Accounts, buildSessionsApp, sessionsOptions, type SessionsApp } from './sessions-app.js';

/**
 * Hostile and careless requests: each gets a 4xx with a code and a sentence, and changes nothing (every
 * document of every collection is compared before and after) and publishes nothing.
 */
let app: SessionsApp;
let accounts: Accounts;
let spy: EventSpy;
const auth: Record<string, { authorization: string }> = {};
const ports = { live: 0, privateLive: 0, inSession: 0, expired: 0, othersFree: 0, ended: 0, neverLeased: 0 };
const sessionIds = { others: '', asGuest: '' };
const keys: Record<string, string> = {};

async function lease(target: SessionsApp, name: string, query = '') {
  return (await target.inject({ url: `/api/v1/pairing/port${query}`, headers: auth[name] })).json().port as number;
}
async function declare(name: string, port: number, guests: string[]) {
  const response = await app.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: auth[name], payload: { port, guests } });
  expect(response.statusCode).toBe(201);
  return response.json().id as string;
}

beforeAll(async () => {
  // No sweeping during the test: an expiry would be a change nobody asked for.
  const options = await sessionsOptions({ sweepIntervalMs: 3_600_000 });
  app = await buildSessionsApp(options);
  accounts = await Accounts.connect(options);
  for (const name of ['mallory', 'victim', 'alice', 'bob', 'dora']) auth[name] = (await accounts.register(app, name)).auth;
  await accounts.remove('dora');

  // A replica whose leases expire at once, to hold a lease that has run out (and that nobody sweeps).
  const hasty = await buildSessionsApp({ ...options, queue: `${options.queue}-hasty`, leaseTtlMs: 1 });
  ports.expired = await lease(hasty, 'mallory');
  await hasty.close();
  ports.live = await lease(app, 'mallory');
  ports.privateLive = await lease(app, 'mallory', '?private=true');
  ports.inSession = await lease(app, 'mallory');
  await declare('mallory', ports.inSession, ['alice']);
  ports.ended = await lease(app, 'mallory');
  const ended = await declare('mallory', ports.ended, ['alice']);
  expect((await app.inject({ method: 'DELETE', url: `/api/v1/pairing/sessions/${ended}`, headers: auth.mallory })).statusCode).toBe(204);
  ports.othersFree = await lease(app, 'victim');
  sessionIds.others = await declare('victim', await lease(app, 'victim'), ['alice']);
  sessionIds.asGuest = await declare('victim', await lease(app, 'victim'), ['mallory']);
  const taken = new Set((await app.db.collection('port_claims').find().toArray()).map((claim) => Number(String(claim._id).split(':')[1])));
  ports.neverLeased = [...Array(100).keys()].map((i) => 20_000 + i).find((port) => !taken.has(port))!;

  const [ed25519, ecdsa, dsa] = [await generateSshKey('ed25519'), await generateSshKey('ecdsa'), await generateSshKey('dsa')];
  const [type, blob] = ed25519.publicKey.trim().split(' ') as [string, string];
  const raw = Buffer.from(blob, 'base64');
  Object.assign(keys, {
    valid: ed25519.publicKey, private: ed25519.privateKey, ecdsa: ecdsa.publicKey, dsa: dsa.publicKey, type, blob,
    trailing: Buffer.concat([raw, Buffer.from('junk')]).toString('base64'), truncated: raw.subarray(0, 30).toString('base64'),
  });

  // Let the set-up's events go out and its tombstones be purged before anything is compared.
  await eventually(async () => {
    const pending = await app.db.collection('outbox').countDocuments();
    const tombstones = await Promise.all(['leases', 'sessions'].map((name) => app.db.collection(name).countDocuments({ deletedAt: { $ne: null } })));
    return pending + tombstones[0]! + tombstones[1]! === 0;
  });
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!, '#');
});
afterAll(async () => {
  await Promise.all([app?.close(), accounts?.close(), spy?.stop()]);
});

type Case = [name: string, payload: () => unknown, status: number, code: string, details?: Record<string, unknown>];

const ok = () => ({ port: ports.live, guests: ['alice'] });
const withGuests = (guests: unknown) => () => ({ port: ports.live, guests });
const withPort = (port: unknown) => () => ({ port, guests: ['alice'] });
const withHostKey = (hostKey: () => unknown) => () => ({ ...ok(), hostKey: hostKey() });

const declareCases: Case[] = [
  ['a port never leased', () => withPort(ports.neverLeased)(), 403, 'PORT_NOT_LEASED'],
  ['a port leased to someone else', () => withPort(ports.othersFree)(), 403, 'PORT_NOT_LEASED'],
  ['an expired lease', () => withPort(ports.expired)(), 403, 'LEASE_EXPIRED'],
  ['the port of an ended session', () => withPort(ports.ended)(), 403, 'PORT_NOT_LEASED'],
  ['a port already carrying a session', () => withPort(ports.inSession)(), 409, 'PORT_IN_SESSION'],
  ['a port outside the range', withPort(8080), 403, 'PORT_NOT_LEASED'],
  ['a lease id that is not one', () => ({ ...withPort(ports.live)(), leaseId: 'nope' }), 403, 'PORT_NOT_LEASED'],
  ['port as a string', () => withPort(String(ports.live))(), 400, 'VALIDATION_FAILED'],
  ['a negative port', withPort(-20_000), 400, 'VALIDATION_FAILED'],
  ['a fractional port', withPort(20_000.5), 400, 'VALIDATION_FAILED'],
  ['a huge port', withPort(1e12), 400, 'VALIDATION_FAILED'],
  ['no port', () => ({ guests: ['alice'] }), 400, 'VALIDATION_FAILED'],
  ['$ne operator as port', withPort({ $ne: null }), 400, 'VALIDATION_FAILED'],
  ['a guest as a number', withGuests([42]), 400, 'VALIDATION_FAILED'],
  ['guests as one string', withGuests('alice'), 400, 'VALIDATION_FAILED'],
  ['guests as null', withGuests(null), 400, 'VALIDATION_FAILED'],
  ['an unknown access value', withGuests([{ username: 'alice', access: 'admin' }]), 400, 'VALIDATION_FAILED'],
  ['a guest object with an extra field', withGuests([{ username: 'alice', access: 'rw', owner: true }]), 400, 'VALIDATION_FAILED'],
  ['a guest object without a username', withGuests([{ access: 'ro' }]), 400, 'VALIDATION_FAILED'],
  ['$ne operator as a guest', withGuests([{ $ne: null }]), 400, 'VALIDATION_FAILED'],
  ['$gt operator as a guest username', withGuests([{ username: { $gt: '' } }]), 400, 'VALIDATION_FAILED'],
  ['an empty guest name', withGuests(['']), 400, 'VALIDATION_FAILED'],
  ['a 40-character guest name', withGuests(['a'.repeat(40)]), 400, 'VALIDATION_FAILED'],
  ['21 guests', withGuests(Array.from({ length: 21 }, (_, i) => `guest-${i}`)), 400, 'TOO_MANY_GUESTS'],
  ['101 guests', withGuests(Array.from({ length: 101 }, () => 'alice')), 400, 'VALIDATION_FAILED'],
  ['an empty guest list', withGuests([]), 400, 'NO_GUESTS'],
  ['the host as guest', withGuests(['alice', 'mallory']), 400, 'HOST_AS_GUEST'],
  ['the host as guest, in capitals', withGuests([{ username: 'MALLORY', access: 'ro' }]), 400, 'HOST_AS_GUEST'],
  ['unknown guests, all listed', withGuests(['alice', 'nobody-1', 'Nobody-2']), 400, 'UNKNOWN_GUESTS', { unknownGuests: ['nobody-1', 'nobody-2'] }],
  ['a deleted guest', withGuests(['bob', 'dora']), 400, 'UNKNOWN_GUESTS', { unknownGuests: ['dora'] }],
  ['a Cyrillic look-alike guest', withGuests(['аlice']), 400, 'UNKNOWN_GUESTS', { unknownGuests: ['аlice'] }],
  ['a private key as host key', withHostKey(() => keys.private), 400, 'INVALID_HOST_KEY'],
  ['two host keys on two lines', withHostKey(() => `${keys.valid}${keys.ecdsa}`), 400, 'INVALID_HOST_KEY'],
  ['two host keys on one line', withHostKey(() => `${keys.type} ${keys.blob} ${keys.ecdsa}`), 400, 'INVALID_HOST_KEY'],
  ['a garbage host key', withHostKey(() => 'hello world'), 400, 'INVALID_HOST_KEY'],
  ['a host key whose type does not match its data', withHostKey(() => `ssh-rsa ${keys.blob}`), 400, 'INVALID_HOST_KEY'],
  ['a host key with trailing data', withHostKey(() => `${keys.type} ${keys.trailing}`), 400, 'INVALID_HOST_KEY'],
  ['a truncated host key', withHostKey(() => `${keys.type} ${keys.truncated}`), 400, 'INVALID_HOST_KEY'],
  ['a DSA host key', withHostKey(() => keys.dsa), 400, 'INVALID_HOST_KEY'],
  ['a host key with a command= option', withHostKey(() => `command="sh" ${keys.valid}`), 400, 'INVALID_HOST_KEY'],
  ['a host key with a shell quote in it', withHostKey(() => `${keys.type} ${keys.blob}" ; rm -rf ~ "`), 400, 'INVALID_HOST_KEY'],
  ['a host key as a number', withHostKey(() => 42), 400, 'VALIDATION_FAILED'],
  ['an oversized host key', withHostKey(() => `ssh-rsa ${'A'.repeat(20_000)}`), 400, 'VALIDATION_FAILED'],
  ['"private": true on a public lease', () => ({ ...ok(), private: true }), 400, 'PRIVATE_MISMATCH', { field: 'private' }],
  ['a private lease declared without "private"', () => ({ port: ports.privateLive, guests: ['alice'] }), 400, 'PRIVATE_MISMATCH', { field: 'private' }],
  ['a private lease declared with "private": false', () => ({ port: ports.privateLive, guests: ['alice'], private: false }), 400, 'PRIVATE_MISMATCH'],
  ['"private" as the string "true"', () => ({ port: ports.privateLive, guests: ['alice'], private: 'true' }), 400, 'VALIDATION_FAILED', { field: 'private' }],
  ['"private" as 1', () => ({ port: ports.privateLive, guests: ['alice'], private: 1 }), 400, 'VALIDATION_FAILED'],
  ['"private" as null', () => ({ ...ok(), private: null }), 400, 'VALIDATION_FAILED'],
  ['an extra field', () => ({ ...ok(), userId: 'u-victim' }), 400, 'VALIDATION_FAILED'],
  ['a JSON array', () => [], 400, 'VALIDATION_FAILED'],
  ['malformed JSON', () => '{"port": ', 400, 'INVALID_JSON'],
  ['an oversized body', () => ({ ...ok(), padding: 'x'.repeat(70_000) }), 413, 'BODY_TOO_LARGE'],
];

const sessionPaths = (id: string): [string, string][] => [
  ['GET', `/api/v1/pairing/sessions/${id}`], ['POST', `/api/v1/pairing/sessions/${id}/heartbeat`], ['DELETE', `/api/v1/pairing/sessions/${id}`],
];

async function snapshot() {
  const collections = (await app.db.db!.listCollections().toArray()).map((c) => c.name).sort();
  return Promise.all(collections.map(async (name) => [name, await app.db.collection(name).find().sort({ _id: 1 }).toArray()]));
}

async function expectRefusedWithoutEffect(request: () => Promise<{ statusCode: number; json(): Record<string, unknown> }>, status: number, code: string) {
  const before = await snapshot();
  const response = await request();
  const body = response.json();
  expect({ status: response.statusCode, code: body.code }).toEqual({ status, code });
  expect(body.statusCode).toBe(status);
  expect(body.message).toMatch(/^[A-Z"].{8,}[.?]$/s);
  expect(await snapshot()).toEqual(before);
  return body;
}

describe('bad input is refused with a code and changes nothing', () => {
  // A rest parameter: with more parameters than a row has values, Jest would pass `done` in the last one.
  it.each(declareCases)('declaring with %s', async (...[, payload, status, code, details]) => {
    const body = payload();
    const response = await expectRefusedWithoutEffect(() => app.inject({
      method: 'POST', url: '/api/v1/pairing/sessions', headers: { ...auth.mallory, 'content-type': 'application/json' },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    }), status, code);
    if (details) expect(response).toMatchObject(details);
  });

  it.each([
    ['private=maybe', 'private'], ['private=TRUE', 'private'], ['private=1', 'private'], ['private=', 'private'], ['private', 'private'],
    ['private=true&private=true', 'private'], ['private=true&tunnelHost=elsewhere', 'tunnelHost'], ['private[$ne]=false', 'private[$ne]'],
    ['avoidBox=%23', 'avoidBox'], ['avoidBox=box.*', 'avoidBox'], ['avoidBox=Box-1', 'avoidBox'], ['avoidBox=', 'avoidBox'],
  ])('leasing with ?%s', async (query, field) => {
    const body = await expectRefusedWithoutEffect(() => app.inject({ url: `/api/v1/pairing/port?${query}`, headers: auth.mallory }), 400, 'VALIDATION_FAILED');
    expect(body.field).toBe(field);
  });

  it.each([
    ["someone else's session", () => sessionIds.others, 404, 'SESSION_NOT_FOUND'],
    ['a session it is only a guest in', () => sessionIds.asGuest, 403, 'NOT_SESSION_HOST'],
  ])('heartbeat and delete of %s', async (_name, id, status, code) => {
    for (const [method, url] of sessionPaths(id()).slice(1)) {
      await expectRefusedWithoutEffect(() => app.inject({ method: method as 'POST', url, headers: auth.mallory }), status, code);
    }
  });

  it.each(['not-an-id', '000000000000000000000000', '{"$ne":null}', '..%2f..%2fport'])('the session id %s', async (id) => {
    for (const [method, url] of sessionPaths(encodeURIComponent(id))) {
      await expectRefusedWithoutEffect(() => app.inject({ method: method as 'GET', url, headers: auth.mallory }), 404, 'SESSION_NOT_FOUND');
    }
  });

  it('a 65-character session id', async () => {
    for (const [method, url] of sessionPaths('a'.repeat(65))) {
      await expectRefusedWithoutEffect(() => app.inject({ method: method as 'GET', url, headers: auth.mallory }), 400, 'VALIDATION_FAILED');
    }
  });

  it.each([['no token', {}], ['a forged token', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }], ['an API token', { authorization: `Token tmx_${'a'.repeat(40)}` }]])(
    'every route with %s', async (_name, headers) => {
      const routes: [string, string][] = [['GET', '/api/v1/pairing/port'], ['GET', '/api/v1/pairing/sessions'], ['POST', '/api/v1/pairing/sessions'],
        ...sessionPaths(sessionIds.others)];
      for (const [method, url] of routes) {
        const code = 'authorization' in headers && headers.authorization.startsWith('Bearer') ? 'INVALID_TOKEN' : 'UNAUTHENTICATED';
        await expectRefusedWithoutEffect(() => app.inject({ method: method as 'GET', url, headers, ...(method === 'POST' ? { payload: ok() } : {}) }), 401, code);
      }
    },
  );

  it('published nothing', async () => {
    await new Promise((r) => setTimeout(r, 700)); // longer than the outbox interval
    expect(spy.events).toEqual([]);
  });
});
