import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { KeyAdded, type Envelope } from '@tmuxme/events';
import { EventSpy, TcpProxy, testAmqpUrl, testMongoUrl, uniqueName } from '@tmuxme/testing';
import {
  Bus, BusUnavailableError, mongooseInbox, OutboxRelay, outboxPlugin, pendingEventCount, type OutboxFields,
} from '../src/index.js';
import { BrokerAdmin, keyAdded, recordingLogger, sleep, waitUntil } from './helpers.js';

interface Key extends OutboxFields {
  title: string;
}

describe('a broker outage', () => {
  const relayLog = recordingLogger();
  let admin: BrokerAdmin;
  let proxy: TcpProxy;
  let producer: Bus;
  let consumer: Bus;
  let spy: EventSpy;
  let db: mongoose.Connection;
  let Keys: mongoose.Model<Key>;
  let relay: OutboxRelay;
  let replicaRelay: OutboxRelay;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    const broker = new URL(testAmqpUrl());
    proxy = await new TcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) }).start();
    broker.host = proxy.url;
    // Both services reach the broker through the proxy, so the cut hits publishing and consuming.
    producer = await Bus.connect({ url: broker.toString(), producer: 'keys', reconnectDelayMs: 100, ...admin.names });
    consumer = await Bus.connect({ url: broker.toString(), producer: 'tunnel-sync', reconnectDelayMs: 100, ...admin.names });
    // The spy goes straight to the broker and sees every copy that was published.
    spy = await EventSpy.start(testAmqpUrl(), admin.names.exchange);
    db = await mongoose.createConnection(testMongoUrl(uniqueName('bus-outage'))).asPromise();
    const schema = new mongoose.Schema<Key>({ title: String });
    schema.plugin(outboxPlugin);
    Keys = db.model<Key>('Key', schema);
    relay = new OutboxRelay({ bus: producer, models: [Keys], intervalMs: 200, logger: relayLog });
    // A second replica's relay over the same documents: it may publish what the first one does too.
    replicaRelay = new OutboxRelay({ bus: producer, models: [Keys], intervalMs: 200 });
  });

  afterAll(async () => {
    await Promise.all([relay.stop(), replicaRelay.stop()]);
    await Promise.all([producer.close(), consumer.close(), spy.stop()]);
    await proxy.stop();
    await admin.cleanUp();
    await db.dropDatabase();
    await db.close();
  });

  it('keeps events in the outbox while the broker is unreachable, then delivers each at least once and handles it once', async () => {
    const queue = admin.queue('bus-outage');
    const handled = new Map<string, number>();
    await consumer.consume({
      queue,
      events: [KeyAdded],
      inbox: mongooseInbox(db),
      handler: async (envelope) => { handled.set(envelope.id, (handled.get(envelope.id) ?? 0) + 1); },
    });
    relay.start();
    replicaRelay.start();
    const written: Envelope[] = [];
    const write = async (count: number): Promise<void> => {
      const batch = Array.from({ length: count }, (_, i) => keyAdded(`user${written.length + i}`));
      written.push(...batch);
      await Keys.insertMany(batch.map((envelope) => ({ title: envelope.id, outbox: [envelope] })));
      relay.nudge();
      replicaRelay.nudge();
    };

    await write(5);
    await waitUntil(() => handled.size === 5, 5000, 'the events before the outage');

    await proxy.cut();
    await waitUntil(() => !producer.isConnected() && !consumer.isConnected(), 5000, 'both buses to notice');
    const started = Date.now();
    await expect(producer.publish(keyAdded())).rejects.toBeInstanceOf(BusUnavailableError);
    expect(Date.now() - started).toBeLessThan(500);

    await write(50);
    await sleep(1000);
    expect(await pendingEventCount([Keys])).toBe(50);
    expect(relayLog.lines.filter((line) => line.level === 'warn')).toHaveLength(1);

    await proxy.restore();
    await waitUntil(() => handled.size === 55, 20_000, 'every event to be handled');
    await waitUntil(async () => (await pendingEventCount([Keys])) === 0, 5000, 'an empty outbox backlog');
    expect(producer.isConnected() && consumer.isConnected()).toBe(true);
    await waitUntil(() => relayLog.lines.some((line) => line.msg === 'outbox relay is publishing again'), 2000, 'the relay to say it resumed');

    await sleep(300);
    const copies = spy.events.filter((event) => written.some((envelope) => envelope.id === event.id)).length;
    expect(copies).toBeGreaterThanOrEqual(written.length);
    for (const envelope of written) {
      expect(spy.events.some((event) => event.id === envelope.id)).toBe(true);
      expect(handled.get(envelope.id)).toBe(1);
    }
    expect(await admin.messageCount(queue)).toBe(0);
    expect(await admin.messageCount(`${queue}.dead`)).toBe(0);
  });
});
