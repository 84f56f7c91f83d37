import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, eventually, testAmqpUrl } from '@tmuxme/testing';
import { ApiClient, startStack, type Stack } from '../src/index.js';

/**
 * One sign-up through the gateway, followed by its request id through every JSON log line it causes:
 * the gateway's, accounts' while it handles the request, the UserRegistered envelope that accounts'
 * outbox relays, and keys' and sessions' while they consume that event.
 */
let stack: Stack;
let spy: EventSpy;
const logged: Record<string, unknown>[] = [];

beforeAll(async () => {
  stack = await startStack({
    mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl(), logDestination: { write: (line) => void logged.push(JSON.parse(line)) },
  });
  spy = await EventSpy.start(testAmqpUrl(), stack.exchange);
});
afterAll(async () => {
  await stack?.close();
  await spy?.stop();
});

const linesOf = (service: string, key: string, value: unknown) => logged.filter((line) => line.name === service && line[key] === value);

async function sample(service: 'accounts' | 'keys', name: string, labels: Record<string, string>): Promise<number | undefined> {
  const body = (await stack.servers[service].inject({ url: '/metrics' })).body;
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((pair) => l.includes(pair)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('the request id, end to end', () => {
  it('joins the gateway, the service, the event and its consumers, and no line holds a credential', async () => {
    const api = new ApiClient(stack.gatewayUrl);
    const password = 'correct horse battery';
    const response = await api.request('POST', '/api/v1/users', {
      username: 'tracy', email: 'tracy@example.com', password, passwordConfirmation: password,
    }, { 'x-request-id': 'chosen-by-client' });
    expect(response.status).toBe(201);
    // The gateway makes every id itself, and tells it back.
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

    for (const service of ['gateway', 'accounts']) {
      const messages = linesOf(service, 'requestId', requestId).map((line) => line.msg);
      expect(messages).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    }

    const [registered] = (await spy.waitFor('UserRegistered')).filter((event) => event.data.username === 'tracy');
    expect(registered).toMatchObject({ producer: 'accounts', requestId });

    for (const consumer of ['keys', 'sessions']) {
      const lines = (await eventually(() => {
        const found = linesOf(consumer, 'eventId', registered!.id);
        return found.length > 0 ? found : undefined;
      }))!;
      expect(lines.map((line) => line.msg)).toEqual(['handling event']);
      for (const line of lines) expect(line).toMatchObject({ requestId, type: 'UserRegistered' });
    }

    // The same sign-up in the metrics: the relayed event and the consumer's queue.
    expect(await sample('accounts', 'events_published_total', { type: 'UserRegistered' })).toBe(1);
    await eventually(async () => (await sample('keys', 'events_consumed_total', { type: 'UserRegistered', outcome: 'handled' })) === 1);
    expect(await sample('keys', 'event_queue_messages', { queue: stack.queues.keys })).toBe(0);
    expect(await sample('keys', 'event_queue_consumers', { queue: stack.queues.keys })).toBe(1);

    const everything = JSON.stringify(logged);
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(response.json.apiToken);
  });
});
