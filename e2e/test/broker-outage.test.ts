import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, eventually, generateSshKey, TcpProxy, testAmqpUrl } from '@tmuxme/testing';
import { ApiClient, startStack, type Stack } from '../src/index.js';

/**
 * The services reach RabbitMQ through a proxy that the test cuts while users
 * sign up and add keys: the writes succeed, and every event arrives once the
 * broker is reachable again.
 */
let stack: Stack;
let spy: EventSpy;
let proxy: TcpProxy;

beforeAll(async () => {
  const broker = new URL(testAmqpUrl());
  proxy = await new TcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) }).start();
  const viaProxy = new URL(testAmqpUrl());
  viaProxy.host = proxy.url;
  stack = await startStack({ mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: viaProxy.toString() });
  spy = await EventSpy.start(testAmqpUrl(), stack.exchange);
});
afterAll(async () => {
  await stack?.close();
  await spy?.stop();
  await proxy?.stop();
});

describe('a broker outage during writes', () => {
  it('loses no event', async () => {
    const api = new ApiClient(stack.gatewayUrl);
    const keys = await Promise.all(Array.from({ length: 12 }, () => generateSshKey('ed25519')));
    const fingerprints: string[] = [];
    const usernames: string[] = [];

    for (let i = 0; i < 12; i += 1) {
      if (i === 4) {
        await proxy.cut();
        // The services notice: readiness turns false while writes still succeed.
        await eventually(async () => (await stack.servers.accounts.inject({ url: '/readyz' })).statusCode === 503);
      }
      if (i === 9) await proxy.restore();
      const username = `outage-${i}`;
      const { user } = await api.signup(username);
      const added = await user.request('POST', '/api/v1/user/keys', { key: keys[i]!.publicKey });
      expect(added.status).toBe(201);
      usernames.push(username);
      fingerprints.push(keys[i]!.fingerprint);
    }

    await spy.waitFor('UserRegistered', 12, 30_000);
    await spy.waitFor('KeyAdded', 12, 30_000);
    const registered = spy.ofType('UserRegistered').map((e) => e.data.username);
    const added = spy.ofType('KeyAdded').map((e) => e.data.fingerprint);
    expect(new Set(registered)).toEqual(new Set(usernames));
    expect(new Set(added)).toEqual(new Set(fingerprints));
    console.log(`broker outage: ${usernames.length} sign-ups and ${fingerprints.length} keys written, 5 of each while the broker was cut; `
      + `${spy.events.length} events received (${new Set(spy.events.map((e) => e.id)).size} distinct)`);
  });
});
