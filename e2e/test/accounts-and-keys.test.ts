import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, eventually, generateSshKey, testAmqpUrl } from '@tmuxme/testing';
import { ApiClient, startStack, type Stack } from '../src/index.js';

/** A user's whole story through the gateway, with the events checked on a real queue. */
let stack: Stack;
let spy: EventSpy;
let api: ApiClient;

beforeAll(async () => {
  stack = await startStack({ mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl() });
  spy = await EventSpy.start(testAmqpUrl(), stack.exchange);
  api = new ApiClient(stack.gatewayUrl);
});
afterAll(async () => {
  await stack?.close();
  await spy?.stop();
});

describe('through the gateway', () => {
  it('signs up, adds a key, and anyone can read it as keys.json and as <name>.keys', async () => {
    const { user: alice, apiToken } = await api.signup('alice');
    const cli = await api.request('POST', '/api/v1/auth/token', undefined, { authorization: `Token ${apiToken}` });
    expect(cli.status).toBe(200);

    const key = await generateSshKey('ed25519', undefined, 'alice@laptop');
    const added = await alice.request('POST', '/api/v1/user/keys', { title: 'laptop', key: key.publicKey });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ title: 'laptop', type: 'ssh-ed25519', fingerprint: key.fingerprint });
    const [type, blob] = key.publicKey.split(' ');
    expect(added.json.key).toBe(`${type} ${blob}`);

    const json = await api.request('GET', '/api/v1/users/alice/keys.json');
    expect(json.status).toBe(200);
    expect(json.json).toEqual([{ id: added.json.id, type: 'ssh-ed25519', key: `${type} ${blob}`, fingerprint: key.fingerprint }]);
    const text = await api.request('GET', '/alice.keys');
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text.text).toBe(`${type} ${blob}\n`);
    expect(text.text).not.toContain('alice@laptop');

    const [event] = await spy.waitFor('KeyAdded');
    expect(event).toMatchObject({
      producer: 'keys', routingKey: 'key.added',
      data: { keyId: added.json.id, username: 'alice', type: 'ssh-ed25519', key: `${type} ${blob}`, fingerprint: key.fingerprint },
    });
    const [registered] = spy.ofType('UserRegistered');
    expect(event!.data.userId).toBe(registered!.data.userId);
  });

  it('carries the request id from the gateway into the event', async () => {
    spy.clear();
    const { user } = await api.signup('request-id-user');
    const key = await generateSshKey('ecdsa');
    const added = await user.request('POST', '/api/v1/user/keys', { key: key.publicKey }, { 'x-request-id': 'chosen-by-client' });
    expect(added.status).toBe(201);
    const [event] = await spy.waitFor('KeyAdded');
    expect(event!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event!.requestId).not.toBe('chosen-by-client');
  });

  it('refuses a key already registered to someone else, and 404s an unknown user', async () => {
    const { user: bob } = await api.signup('bob');
    const { user: eve } = await api.signup('eve');
    const key = await generateSshKey('ed25519');
    expect((await bob.request('POST', '/api/v1/user/keys', { key: key.publicKey })).status).toBe(201);
    const stolen = await eve.request('POST', '/api/v1/user/keys', { key: key.publicKey });
    expect(stolen.json).toMatchObject({ statusCode: 409, code: 'KEY_IN_USE' });
    const unknown = await api.request('GET', '/api/v1/users/no-such-user/keys.json');
    expect(unknown.json).toMatchObject({ statusCode: 404, code: 'USER_NOT_FOUND' });
    expect((await api.request('GET', '/no-such-user.keys')).status).toBe(404);
    await eventually(async () => (await api.request('GET', '/api/v1/users/eve/keys.json')).status === 200);
    expect((await api.request('GET', '/api/v1/users/eve/keys.json')).json).toEqual([]);
  });

  it('removes a key: gone from keys.json, KeyRemoved published', async () => {
    const { user } = await api.signup('carol');
    const key = await generateSshKey('rsa', 2048);
    const added = await user.request('POST', '/api/v1/user/keys', { key: key.publicKey });
    expect((await user.request('GET', '/api/v1/user/keys')).json).toHaveLength(1);
    expect((await user.request('DELETE', `/api/v1/user/keys/${added.json.id}`)).status).toBe(204);
    expect((await api.request('GET', '/api/v1/users/carol/keys.json')).json).toEqual([]);
    const removed = await spy.waitFor('KeyRemoved');
    expect(removed.some((e) => e.data.keyId === added.json.id && e.data.fingerprint === key.fingerprint)).toBe(true);
  });

  it('deleting an account removes its keys: keys.json turns 404 and KeyRemoved follows UserDeleted', async () => {
    const { user } = await api.signup('dave');
    const keys = await Promise.all([generateSshKey('ed25519'), generateSshKey('ecdsa')]);
    for (const key of keys) expect((await user.request('POST', '/api/v1/user/keys', { key: key.publicKey })).status).toBe(201);
    expect((await user.request('DELETE', '/api/v1/user', { password: 'correct horse battery' })).status).toBe(204);
    await eventually(async () => (await api.request('GET', '/api/v1/users/dave/keys.json')).status === 404);
    const removed = await eventually(() => {
      const mine = spy.ofType('KeyRemoved').filter((e) => e.data.username === 'dave');
      return mine.length === 2 ? mine : undefined;
    });
    expect(new Set(removed!.map((e) => e.data.fingerprint))).toEqual(new Set(keys.map((k) => k.fingerprint)));
    // The old access token can no longer add keys.
    const late = await user.request('POST', '/api/v1/user/keys', { key: (await generateSshKey('ed25519')).publicKey });
    expect(late.json).toMatchObject({ statusCode: 401, code: 'ACCOUNT_GONE' });
  });
});
