import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { KeyAdded, KeyRemoved, type Envelope } from '@tmuxme/events';
import { EventSpy, TcpProxy, testAmqpUrl, testMongoUrl, uniqueName } from '@tmuxme/testing';
import { Bus, BusUnavailableError, mongooseInbox, Outbox, outboxFields, type OutboxFields } from '../src/index.js';
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
  let outbox: Outbox;
  let replica: Outbox;

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
    schema.plugin(outboxFields);
    Keys = db.model<Key>('Key', schema);
    outbox = new Outbox({ connection: db, bus: producer, models: [Keys], intervalMs: 200, logger: relayLog });
    // A second replica's relay over the same staging collection: it may publish what the first one does too.
    replica = new Outbox({ connection: db, bus: producer, models: [Keys], intervalMs: 200 });
    outbox.start();
    replica.start();
  });

  afterAll(async () => {
    await Promise.all([outbox.stop(), replica.stop()]);
    await Promise.all([producer.close(), consumer.close(), spy.stop()]);
    await proxy.stop();
    await admin.cleanUp();
    await db.dropDatabase();
    await db.close();
  });

  async function cut(): Promise<void> {
    await proxy.cut();
    await waitUntil(() => !producer.isConnected() && !consumer.isConnected(), 5000, 'both buses to notice');
  }

  function copies(envelope: Envelope): number {
    return spy.events.filter((event) => event.id === envelope.id).length;
  }

  it('keeps staged events while the broker is unreachable, then delivers each at least once and handles it once', async () => {
    const queue = admin.queue('bus-outage');
    const handled = new Map<string, number>();
    await consumer.consume({
      queue,
      events: [KeyAdded],
      inbox: mongooseInbox(db),
      handler: async (envelope) => { handled.set(envelope.id, (handled.get(envelope.id) ?? 0) + 1); },
    });
    const written: Envelope[] = [];
    const write = async (count: number): Promise<void> => {
      const batch = Array.from({ length: count }, (_, i) => keyAdded(`user${written.length + i}`));
      written.push(...batch);
      await Promise.all(batch.map((envelope) => {
        const _id = new mongoose.Types.ObjectId();
        return outbox.write([envelope], { model: Keys, id: _id }, (eventIds) => Keys.create({ _id, title: envelope.id, eventIds }));
      }));
      replica.nudge();
    };

    await write(5);
    await waitUntil(() => handled.size === 5, 5000, 'the events before the outage');

    await cut();
    const started = Date.now();
    await expect(producer.publish(keyAdded())).rejects.toBeInstanceOf(BusUnavailableError);
    expect(Date.now() - started).toBeLessThan(500);

    await write(50);
    await sleep(1000);
    expect(await outbox.pendingCount()).toBe(50);
    expect(relayLog.lines.filter((line) => line.level === 'warn')).toHaveLength(1);

    await proxy.restore();
    await waitUntil(() => handled.size === 55, 20_000, 'every event to be handled');
    await waitUntil(async () => (await outbox.pendingCount()) === 0, 5000, 'an empty outbox backlog');
    expect(producer.isConnected() && consumer.isConnected()).toBe(true);
    await waitUntil(() => relayLog.lines.some((line) => line.msg === 'outbox relay is publishing again'), 2000, 'the relay to say it resumed');

    await sleep(300);
    for (const envelope of written) {
      expect(copies(envelope)).toBeGreaterThanOrEqual(1);
      expect(handled.get(envelope.id)).toBe(1);
    }
    expect(await admin.messageCount(queue)).toBe(0);
    expect(await admin.messageCount(`${queue}.dead`)).toBe(0);
  });

  it('purges a tombstone only after its event went out', async () => {
    const _id = new mongoose.Types.ObjectId();
    const added = keyAdded('tomb');
    await outbox.write([added], { model: Keys, id: _id }, (eventIds) => Keys.create({ _id, title: 'tomb', eventIds }));
    await waitUntil(async () => copies(added) >= 1 && (await outbox.pendingCount()) === 0, 5000, 'the KeyAdded event');
    const removed = producer.envelope(KeyRemoved, { keyId: String(_id), userId: 'u1', username: 'tomb', fingerprint: 'SHA256:x' });

    await cut();
    await outbox.write([removed], { model: Keys, id: _id }, (eventIds) => Keys.updateOne(
      { _id, deletedAt: null }, { $set: { deletedAt: new Date() }, $push: { eventIds: { $each: eventIds } } },
    ));
    // Several passes of both relays run meanwhile; each purges what it may, and this one it may not.
    await sleep(1000);
    expect(await Keys.findById(_id).lean()).toMatchObject({ title: 'tomb', deletedAt: expect.any(Date) });
    expect(await outbox.pendingCount()).toBe(1);
    expect(copies(removed)).toBe(0);

    await proxy.restore();
    await waitUntil(() => copies(removed) >= 1, 20_000, 'the KeyRemoved event');
    expect(spy.events.find((event) => event.id === removed.id)).toEqual({ ...removed, routingKey: 'key.removed' });
    await waitUntil(async () => (await Keys.countDocuments({ _id })) === 0, 5000, 'the purged tombstone');
    expect(await outbox.pendingCount()).toBe(0);
  });
});
