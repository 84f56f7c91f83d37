import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ApiClient, startStack, type Stack } from '@tmuxme/e2e';
import { ed25519PublicKeyLine, eventually, MailCatcher, peekQueue, publishRaw, testAmqpUrl } from '@tmuxme/testing';
import { authorizedKeysFolder, bodyOf, keyLinesOf, principalOf, sumOf, tunnelKeyLine } from '../src/index.js';

/**
 * Messages the notifier can never handle, published on the exchange as a buggy or hostile producer could:
 * not JSON, an envelope that breaks its contract, and a well-formed session whose guest has no account.
 * Each ends in the notifier's `<queue>.dead` (the first two at once, the last after its bounded
 * redeliveries), and the invitations published around them go out all the same. tunnel-sync, which
 * takes its events strictly one at a time, gets poison of its own and must not stall on it either.
 */
const maxDeliveries = 3;

let stack: Stack;
let catcher: MailCatcher;
let folder: Awaited<ReturnType<typeof authorizedKeysFolder>>;

beforeAll(async () => {
  catcher = await MailCatcher.start();
  folder = await authorizedKeysFolder();
  stack = await startStack({
    mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl(), smtpUrl: catcher.url, notifier: { maxDeliveries, retryDelayMs: 100 },
    authorizedKeysFile: folder.file, tunnelGroup: folder.group,
  });
});
afterAll(async () => {
  await stack?.close();
  await catcher?.stop();
  await folder?.remove();
});

const metricsOf = async (service: 'notifier' | 'tunnelSync') => (await stack.servers[service]!.inject({ url: '/metrics' })).body;
const publish = (routingKey: string, messageId: string, content: string) => publishRaw(testAmqpUrl(), stack.exchange, routingKey, content, { messageId });
const deadLetters = async (queue: string, count: number) => (await eventually(async () => {
  const found = await peekQueue(testAmqpUrl(), `${queue}.dead`);
  return found.length === count ? found : undefined;
}))!;

/** A SessionDeclared envelope as sessions would publish it, with `data` changed as given. */
function sessionDeclared(data: Record<string, unknown>) {
  const id = randomUUID();
  return {
    id,
    body: JSON.stringify({
      id, type: 'SessionDeclared', version: 1, occurredAt: new Date().toISOString(), producer: 'sessions',
      data: {
        sessionId: randomUUID(), host: { userId: 'u-poison', username: 'poison-host' }, tunnelHost: '127.0.0.1', tunnelPort: 2222, port: 29999, private: false,
        joinCommand: 'ssh -p 29999 tmuxme@127.0.0.1', jumpJoinCommand: 'ssh -J join@127.0.0.1:2222 -o HostKeyAlias=127.0.0.1:29999 -p 29999 tmuxme@127.0.0.1', ...data,
      },
    }),
  };
}

describe('poison messages', () => {
  it('are dead-lettered, and the notifier goes on sending invitations', async () => {
    const api = new ApiClient(stack.gatewayUrl);
    const { user: host } = await api.signup('poison-host');
    await api.signup('poison-guest');
    await eventually(async () => sumOf(await metricsOf('notifier'), 'events_consumed_total', { type: 'UserRegistered', outcome: 'handled' }) === 2);
    const invite = async () => {
      const { port } = await bodyOf<{ port: number }>(200, host.request('GET', '/api/v1/pairing/port'));
      await bodyOf(201, host.request('POST', '/api/v1/pairing/sessions', { port, guests: ['poison-guest'] }));
      return port;
    };

    const unknownGuest = sessionDeclared({ guests: [{ userId: 'u-never-signed-up', username: 'never-signed-up', access: 'rw' }] });
    await publish('session.declared', 'not-json', '{"id": "7f0c0d64-0c1e-4c4e-9a0e-000000000000", "type": "SessionDe');
    await publish('session.declared', 'breaks-contract', sessionDeclared({ guests: 'everyone' }).body);
    await publish('session.declared', unknownGuest.id, unknownGuest.body);
    const before = await invite();
    await catcher.waitFor(1, 30_000);

    await eventually(async () => {
      const metrics = await metricsOf('notifier');
      return sumOf(metrics, 'events_consumed_total', { type: 'unknown', outcome: 'poison' }) === 2
        && sumOf(metrics, 'events_consumed_total', { type: 'SessionDeclared', outcome: 'dead-lettered' }) === 1;
    }, 30_000);
    expect(sumOf(await metricsOf('notifier'), 'events_consumed_total', { type: 'SessionDeclared', outcome: 'retried' })).toBe(maxDeliveries - 1);
    const dead = await deadLetters(stack.queues.notifier, 3);
    expect(Object.fromEntries(dead.map((message) => [message.messageId, message.headers['x-first-death-reason']]))).toEqual({
      'not-json': 'rejected', 'breaks-contract': 'rejected', [unknownGuest.id]: 'delivery_limit',
    });
    expect(dead.find((message) => message.messageId === unknownGuest.id)?.content).toBe(unknownGuest.body);

    const after = await invite();
    const mails = await catcher.waitFor(2, 30_000);
    expect(mails.map((mail) => /ssh -p (\d+) /.exec(mail.text)?.[1])).toEqual([String(before), String(after)]);
    expect(mails.flatMap((mail) => mail.envelope.to)).toEqual(['poison-guest@example.com', 'poison-guest@example.com']);
    console.log(`poison: notifier dead-lettered 3 messages (2 refused at once as poison, 1 after ${maxDeliveries} deliveries) `
      + `and sent the ${mails.length} invitations published around them`);
  });

  it('are dead-lettered by tunnel-sync, one event at a time, without stalling its queue', async () => {
    await publish('key.added', 'garbage', '\u0000\u00ff not an event');
    await publish(`port.leased.${stack.tunnelBox.boxId}`, 'missing-fields', JSON.stringify({
      id: randomUUID(), type: 'PortLeased', version: 1, occurredAt: new Date().toISOString(), producer: 'sessions', data: { leaseId: 'l', userId: 'u' },
    }));
    const { user } = await new ApiClient(stack.gatewayUrl).signup('poison-box-user');
    const key = await bodyOf<{ id: string; key: string }>(201, user.request('POST', '/api/v1/user/keys', { key: ed25519PublicKeyLine() }));
    const { port } = await bodyOf<{ port: number }>(200, user.request('GET', '/api/v1/pairing/port'));
    const line = tunnelKeyLine({ ports: [port], key: key.key, userId: principalOf(user).userId, keyId: key.id });

    await eventually(async () => (await keyLinesOf(folder.file)).includes(line), 30_000);
    // The notifier's two poisoned SessionDeclared name no box, so they never reached a box's queue.
    const dead = await deadLetters(stack.queues.tunnelSync, 2);
    expect(dead.map((message) => message.messageId).sort()).toEqual(['garbage', 'missing-fields']);
    expect(sumOf(await metricsOf('tunnelSync'), 'events_consumed_total', { outcome: 'poison' })).toBe(2);
  });
});
