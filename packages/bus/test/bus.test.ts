import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyAdded, KeyRemoved, PortReleased, type Envelope } from '@tmuxme/events';
import { testAmqpUrl, uniqueName } from '@tmuxme/testing';
import { Bus, BusUnavailableError } from '../src/index.js';
import { BrokerAdmin, keyAdded, sleep, waitUntil } from './helpers.js';

describe('Bus', () => {
  let admin: BrokerAdmin;
  let bus: Bus;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    bus = await Bus.connect({ url: testAmqpUrl(), producer: 'keys', ...admin.names });
  });

  afterAll(async () => {
    await bus.close();
    await admin.cleanUp();
  });

  it('delivers a published envelope intact to a quorum queue, and only the types it is bound to', async () => {
    const queue = admin.queue('bus-basic');
    const received: Envelope[] = [];
    const consumer = await bus.consume({ queue, events: [KeyAdded], handler: async (envelope) => { received.push(envelope); } });
    expect(bus.isConnected()).toBe(true);
    const declared = {
      'x-delivery-limit': 4, 'x-dead-letter-exchange': admin.names.deadLetterExchange, 'x-dead-letter-routing-key': queue,
    };
    expect(await admin.redeclare(queue, { ...declared, 'x-queue-type': 'quorum' })).toBe('ok');
    expect(await admin.redeclare(queue, { ...declared, 'x-queue-type': 'classic' })).toMatch(/inequivalent arg 'x-queue-type'/);

    const removed = bus.envelope(KeyRemoved, { keyId: 'k1', userId: 'u1', username: 'alice', fingerprint: 'SHA256:x' });
    const added = keyAdded();
    await bus.publish(removed);
    await bus.publish(added);

    await waitUntil(() => received.length > 0, 5000, 'the KeyAdded delivery');
    await sleep(200);
    expect(received).toEqual([added]);
    await consumer.cancel();
    expect(await admin.messageCount(queue)).toBe(0);
  });

  it('publishes persistent JSON with the contract routing key and the envelope id as message id', async () => {
    const tap = await admin.tap('#');
    const envelope = keyAdded();
    await bus.publish(envelope);
    await waitUntil(async () => (await admin.messageCount(tap)) === 1, 5000, 'the tapped message');
    const [message] = await admin.drain(tap);
    expect(JSON.parse(message!.content)).toEqual(envelope);
    expect(message!.routingKey).toBe('key.added');
    expect(message!.properties).toMatchObject({
      deliveryMode: 2, messageId: envelope.id, type: 'KeyAdded', contentType: 'application/json', appId: 'keys',
    });
  });

  it("routes an event about one box to that box's queue alone, and to every queue that takes all boxes", async () => {
    const received: Record<string, string[]> = { 'box-1': [], 'box-2': [], all: [] };
    const consumers = await Promise.all(Object.keys(received).map((name) => bus.consume({
      queue: admin.queue(`bus-box-${name}`),
      events: [PortReleased, KeyAdded],
      ...(name === 'all' ? {} : { boxId: name }),
      handler: async (envelope) => { received[name]!.push(envelope.type === 'KeyAdded' ? 'key' : (envelope.data as { boxId?: string }).boxId ?? 'no box'); },
    })));
    const released = (boxId?: string) => bus.envelope(PortReleased, {
      leaseId: 'l1', userId: 'u1', username: 'alice', tunnelHost: 'box.example.org', port: 20001, ...(boxId ? { boxId } : {}),
    });
    for (const envelope of [released('box-1'), released('box-2'), released(), keyAdded()]) await bus.publish(envelope);

    await waitUntil(() => received.all!.length === 4 && received['box-1']!.length === 2 && received['box-2']!.length === 2, 5000, 'every delivery');
    await sleep(200);
    expect(received).toEqual({ 'box-1': ['box-1', 'key'], 'box-2': ['box-2', 'key'], all: ['box-1', 'box-2', 'no box', 'key'] });
    await Promise.all(consumers.map((consumer) => consumer.cancel()));
  });

  it("gives every replica's own queue every event, and declares it to expire once its replica is gone", async () => {
    const received: Record<string, string[]> = { 'replica-a': [], 'replica-b': [] };
    const queues = Object.keys(received).map((name) => admin.queue(`bus-${name}`));
    const consumers = await Promise.all(Object.keys(received).map((name, i) => bus.consume({
      queue: queues[i]!, events: [KeyAdded], replicaQueue: true,
      handler: async (envelope) => { received[name]!.push(envelope.id); },
    })));
    const added = keyAdded();
    await bus.publish(added);

    await waitUntil(() => received['replica-a']!.length === 1 && received['replica-b']!.length === 1, 5000, 'both deliveries');
    expect(received).toEqual({ 'replica-a': [added.id], 'replica-b': [added.id] });
    const declared = { 'x-dead-letter-exchange': admin.names.deadLetterExchange, 'x-dead-letter-routing-key': queues[0]! };
    expect(await admin.redeclare(queues[0]!, { ...declared, 'x-expires': 60_000 })).toBe('ok');
    expect(await admin.redeclare(queues[0]!, { ...declared, 'x-expires': 60_000, 'x-queue-type': 'quorum' })).toMatch(/inequivalent arg/);
    await Promise.all(consumers.map((consumer) => consumer.cancel()));
  });

  it('close() waits for a handler in flight, which still gets its message acked', async () => {
    const own = await Bus.connect({ url: testAmqpUrl(), producer: 'drain', ...admin.names });
    const queue = admin.queue('bus-drain');
    let release!: () => void;
    let started = false;
    let finished = false;
    await own.consume({
      queue,
      events: [KeyAdded],
      handler: async () => {
        started = true;
        await new Promise<void>((resolve) => { release = resolve; });
        finished = true;
      },
    });
    await own.publish(keyAdded());
    await waitUntil(() => started, 5000, 'the handler to start');

    let closed = false;
    const closing = own.close().then(() => { closed = true; });
    await sleep(300);
    expect(closed).toBe(false);
    release();
    await closing;
    expect(finished).toBe(true);
    expect(own.isConnected()).toBe(false);
    expect(await admin.messageCount(queue)).toBe(0);
  });

  it('sets a consumer up again when the broker cancels it, here because its queue was deleted', async () => {
    const own = await Bus.connect({ url: testAmqpUrl(), producer: 'healing', reconnectDelayMs: 100, ...admin.names });
    const queue = admin.queue('bus-healing');
    const received: string[] = [];
    await own.consume({ queue, events: [KeyAdded], handler: async (envelope) => { received.push(envelope.id); } });
    await admin.deleteQueue(queue);
    await sleep(500);

    const envelope = keyAdded();
    await own.publish(envelope);
    await waitUntil(() => received.includes(envelope.id), 5000, 'the message on the re-declared queue');
    await own.close();
  });

  it('tells of each publish the broker confirmed, and of none it refused', async () => {
    const confirmed: string[] = [];
    const own = await Bus.connect({ url: testAmqpUrl(), producer: 'counting', onPublished: (type) => confirmed.push(type), ...admin.names });
    await own.publish(keyAdded());
    await own.publish(own.envelope(KeyRemoved, { keyId: 'k1', userId: 'u1', username: 'alice', fingerprint: 'SHA256:x' }));
    expect(confirmed).toEqual(['KeyAdded', 'KeyRemoved']);
    await own.close();
    await expect(own.publish(keyAdded())).rejects.toBeInstanceOf(BusUnavailableError);
    expect(confirmed).toEqual(['KeyAdded', 'KeyRemoved']);
  });

  it('reports the ready messages and consumers of queues, leaving out one that does not exist, without disturbing consumers', async () => {
    const queue = admin.queue('bus-depth');
    const dead = `${queue}.dead`;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let started = 0;
    let finished = 0;
    const consumer = await bus.consume({
      queue, events: [KeyAdded], prefetch: 1, handler: async () => { started += 1; await gate; finished += 1; },
    });
    for (let i = 0; i < 5; i += 1) await bus.publish(keyAdded());
    await waitUntil(() => started === 1, 5000, 'the first message in the handler');
    // One message is out with the consumer (prefetch 1): the other four wait in the queue.
    await waitUntil(async () => (await bus.inspectQueues([queue]))[0]?.messages === 4, 5000, 'the backlog of four');
    expect(await bus.inspectQueues([queue, dead, uniqueName('no-such-queue')])).toEqual([
      { queue, messages: 4, consumers: 1 }, { queue: dead, messages: 0, consumers: 0 },
    ]);
    // The channel that asked about the missing queue was closed by the broker; the consumer goes on.
    release();
    await waitUntil(() => finished === 5, 5000, 'the backlog to drain');
    expect(await bus.inspectQueues([queue])).toEqual([{ queue, messages: 0, consumers: 1 }]);
    await consumer.cancel();
    expect(await bus.inspectQueues([queue])).toEqual([{ queue, messages: 0, consumers: 0 }]);
  });

  it('connects while the broker is unreachable, reports it, and rejects publishes at once', async () => {
    const started = Date.now();
    const offline = await Bus.connect({ url: 'amqp://guest:guest@127.0.0.1:1', producer: 'offline', ...admin.names });
    expect(offline.isConnected()).toBe(false);
    await expect(offline.publish(keyAdded())).rejects.toBeInstanceOf(BusUnavailableError);
    expect(await offline.inspectQueues(['anything'])).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
    await offline.close();
  });
});
