import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Bus } from '@tmuxme/bus';
import { createEnvelope, UserDeleted, UserRegistered } from '@tmuxme/events';
import { EventSpy, eventually, generateSshKey, testAmqpUrl } from '@tmuxme/testing';
import { bearerFor, buildKeysApp, keysOptions } from './keys-app.js';

/** The keys service follows accounts through its events: registered users exist, deleted ones lose their keys. */
const options = keysOptions();
let app: Awaited<ReturnType<typeof buildKeysApp>>;
let accounts: Bus;
let spy: EventSpy;

beforeAll(async () => {
  app = await buildKeysApp(options);
  accounts = await Bus.connect({ url: testAmqpUrl(), producer: 'accounts', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!, 'key.*');
});
afterAll(async () => {
  await app?.close();
  await accounts?.close();
  await spy?.stop();
});

describe('user events', () => {
  it('a registered user without keys has an empty keys.json; an unknown one a 404', async () => {
    expect((await app.inject({ url: '/api/v1/users/grace/keys.json' })).statusCode).toBe(404);
    const registered = createEnvelope(UserRegistered, { userId: 'u-grace', username: 'grace', email: 'grace@example.com' }, { producer: 'accounts' });
    await accounts.publish(registered);
    await accounts.publish(registered); // delivered twice, handled once
    await eventually(async () => (await app.inject({ url: '/api/v1/users/grace/keys.json' })).statusCode === 200);
    expect((await app.inject({ url: '/api/v1/users/grace/keys.json' })).json()).toEqual([]);
    await eventually(async () => (await app.db.collection('processed_events').countDocuments({ _id: registered.id as never })) === 1);
  });

  it("a deleted user's keys are removed, each with KeyRemoved, and a late add is refused", async () => {
    const principal = { userId: 'u-heidi', username: 'heidi' };
    const auth = await bearerFor(principal);
    for (const type of ['ed25519', 'ecdsa'] as const) {
      const response = await app.inject({ method: 'POST', url: '/api/v1/user/keys', headers: auth, payload: { key: (await generateSshKey(type)).publicKey } });
      expect(response.statusCode).toBe(201);
    }
    await accounts.publish(createEnvelope(UserDeleted, { userId: 'u-heidi', username: 'heidi' }, { producer: 'accounts', requestId: 'req-delete' }));
    const removed = await eventually(() => (spy.ofType('KeyRemoved').length === 2 ? spy.ofType('KeyRemoved') : undefined));
    expect(removed!.map((e) => e.data.userId)).toEqual(['u-heidi', 'u-heidi']);
    expect(removed!.map((e) => e.requestId)).toEqual(['req-delete', 'req-delete']);
    expect((await app.inject({ url: '/api/v1/users/heidi/keys.json' })).statusCode).toBe(404);
    const late = await app.inject({ method: 'POST', url: '/api/v1/user/keys', headers: auth, payload: { key: (await generateSshKey()).publicKey } });
    expect(late.json()).toMatchObject({ statusCode: 401, code: 'ACCOUNT_GONE' });
    await eventually(async () => (await app.db.collection('keys').countDocuments()) === 0); // tombstones purged once published
  });
});
