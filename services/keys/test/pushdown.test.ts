import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { Bus } from '@tmuxme/bus';
import { createEnvelope, UserDeleted, UserRegistered } from '@tmuxme/events';
import {
  auditQueries, describeScans, EventSpy, eventually, generateSshKey, monitoredMongoUrl, scanningQueries, testAmqpUrl, testMongoUrl, uniqueName,
} from '@tmuxme/testing';
import { bearerFor, buildKeysApp, keysOptions } from './keys-app.js';

/**
 * Every request and event handler reads, updates and deletes by `_id` alone, the one filter FerretDB v1
 * answers from its index (docs/architecture.md §8); anything else reads the whole collection.
 */
const database = testMongoUrl(uniqueName('keys'));
const serviceToken = 'a-service-credential-of-some-length';
// The outbox relay's occasional sweep for tombstones scans (it is no request path); a long interval keeps it out of the audit.
const options = keysOptions({ mongoUrl: monitoredMongoUrl(database), serviceToken, maxKeysPerUser: 2, outboxIntervalMs: 600_000 });
let app: Awaited<ReturnType<typeof buildKeysApp>>;
let accounts: Bus;
let spy: EventSpy;
/** The test's own reads, kept off the audited connection. */
let look: mongoose.Connection;

beforeAll(async () => {
  app = await buildKeysApp(options);
  accounts = await Bus.connect({ url: testAmqpUrl(), producer: 'accounts', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!, 'key.*');
  look = await mongoose.createConnection(database).asPromise();
});
afterAll(async () => {
  await app?.close();
  await accounts?.close();
  await spy?.stop();
  await look?.close();
});

const handled = (eventId: string) => eventually(async () => (await look.collection('processed_events').findOne({ _id: eventId as never })) !== null);

describe('query pushdown', () => {
  it('asks the database nothing but `_id` lookups on every request path and event handler', async () => {
    const audit = auditQueries(app.db, { except: ['outbox'] });
    const auth = await bearerFor({ userId: 'u-pam', username: 'pam' });
    const service = { authorization: `Service ${serviceToken}` };
    const [first, second, third] = await Promise.all([generateSshKey('ed25519'), generateSshKey('ecdsa', 256), generateSshKey('ed25519')]);

    const add = (key: string) => app.inject({ method: 'POST', url: '/api/v1/user/keys', headers: auth, payload: { key } });
    const added = (await add(first!.publicKey)).json();
    expect((await add(second!.publicKey)).statusCode).toBe(201);
    expect((await add(first!.publicKey)).json().code).toBe('KEY_IN_USE');
    expect((await add(third!.publicKey)).json().code).toBe('TOO_MANY_KEYS');
    expect((await app.inject({ url: '/api/v1/user/keys', headers: auth })).json()).toHaveLength(2);
    expect((await app.inject({ url: '/api/v1/users/pam/keys.json' })).json()).toHaveLength(2);
    expect((await app.inject({ url: '/pam.keys' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/users/nobody/keys.json' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/user/keys/${added.id}`, headers: auth })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/user/keys/${added.id}`, headers: auth })).statusCode).toBe(404);
    const page = (await app.inject({ url: '/internal/v1/snapshot/keys?limit=1', headers: service })).json();
    expect(page.items).toHaveLength(1);
    expect((await app.inject({ url: `/internal/v1/snapshot/keys?after=${page.next}`, headers: service })).json()).toEqual({ items: [], next: null });

    const registered = createEnvelope(UserRegistered, { userId: 'u-quinn', username: 'quinn', email: 'quinn@example.com' }, { producer: 'accounts' });
    await accounts.publish(registered);
    await handled(registered.id);
    const gone = createEnvelope(UserDeleted, { userId: 'u-pam', username: 'pam' }, { producer: 'accounts' });
    await accounts.publish(gone);
    await handled(gone.id);
    await spy.waitFor('KeyRemoved', 2);
    expect((await add(third!.publicKey)).json().code).toBe('ACCOUNT_GONE');
    audit.stop();

    expect(audit.queries.length).toBeGreaterThan(0);
    expect(new Set(audit.queries.map((query) => query.collection))).toEqual(new Set(['keys', 'key_slots', 'key_fingerprints', 'users', 'processed_events']));
    const scans = await scanningQueries(app.db, audit.queries);
    expect(describeScans(scans)).toBe('');
  });
});
