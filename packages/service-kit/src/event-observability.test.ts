import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fp from 'fastify-plugin';
import { KeyAdded } from '@tmuxme/events';
import { buildApp, eventually, testAmqpUrl, testExchanges, testMongoUrl, uniqueName } from '@tmuxme/testing';
import { busPlugin, databasePlugin, healthPlugin, on, serviceLogger, subscriptionsPlugin } from './index.js';

/**
 * A service built from the kit that consumes its own KeyAdded events, one at a time, with a handler that
 * waits for the test: what it publishes, what waits in its queue and what it logs, as /metrics and its
 * JSON log lines show them.
 */
const queue = uniqueName('kit-events');
let release!: () => void;
const gate = new Promise<void>((resolve) => { release = resolve; });
// Not encapsulated, so the test reaches `app.bus`.
const demo = fp(async (app) => {
  await app.register(healthPlugin, { service: 'demo' });
  await app.register(databasePlugin, { url: testMongoUrl(uniqueName('kit-events')) });
  await app.register(busPlugin, { url: testAmqpUrl(), producer: 'demo', ...testExchanges() });
  await app.register(subscriptionsPlugin, {
    queue,
    prefetch: 1,
    subscriptions: [on(KeyAdded, async ({ data }, { log }) => {
      log.info({ username: data.username }, 'noting the key');
      await gate;
    })],
  });
});

const logged: Record<string, unknown>[] = [];
let app: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  const destination = { write: (line: string) => void logged.push(JSON.parse(line)) };
  app = await buildApp(demo, {}, { loggerInstance: serviceLogger('demo', 'info', destination) });
});
afterAll(async () => {
  release();
  await app?.close();
});

/** The value of one sample in Prometheus text, whatever the order of its labels; undefined when absent. */
async function sample(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const body = (await app.inject({ url: '/metrics' })).body;
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((pair) => l.includes(pair)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const keyAdded = (username: string) => app.bus.envelope(KeyAdded, {
  keyId: uniqueName('key'), userId: `u-${username}`, username, type: 'ssh-ed25519', key: 'AAAAC3Nza', fingerprint: 'SHA256:x',
}, 'req-kit');

describe('event metrics and logs', () => {
  it('counts confirmed publishes, shows the backlog of its queue, and logs each event with its request id', async () => {
    const published = [keyAdded('ann'), keyAdded('ben'), keyAdded('cat')];
    for (const envelope of published) await app.bus.publish(envelope);
    expect(await sample('events_published_total', { type: 'KeyAdded' })).toBe(3);

    // The first event is in the handler, which waits: the other two are the backlog.
    await eventually(async () => (await sample('event_queue_messages', { queue })) === 2);
    expect(await sample('event_queue_consumers', { queue })).toBe(1);
    expect(await sample('event_queue_messages', { queue: `${queue}.dead` })).toBe(0);
    expect(await sample('event_queue_consumers', { queue: `${queue}.dead` })).toBeUndefined();

    release();
    await eventually(async () => (await sample('events_consumed_total', { type: 'KeyAdded', outcome: 'handled' })) === 3);
    expect(await sample('event_queue_messages', { queue })).toBe(0);

    for (const envelope of published) {
      const lines = logged.filter((line) => line.eventId === envelope.id);
      expect(lines.map((line) => line.msg)).toEqual(['handling event', 'noting the key']);
      for (const line of lines) expect(line).toMatchObject({ name: 'demo', requestId: 'req-kit', type: 'KeyAdded' });
    }
  });
});
