import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { KeyAdded, type Envelope } from '@tmuxme/events';
import { EventSpy, testAmqpUrl, testMongoUrl, uniqueName } from '@tmuxme/testing';
import { Bus, mongooseInbox, Outbox, outboxFields, type OutboxFields } from '../src/index.js';
import { BrokerAdmin, keyAdded, sleep, waitUntil } from './helpers.js';

interface Key extends OutboxFields {
  _id: mongoose.Types.ObjectId;
  title: string;
  notes: string[];
}

describe('outbox under concurrent writes', () => {
  let admin: BrokerAdmin;
  let producer: Bus;
  let consumer: Bus;
  let spy: EventSpy;
  let db: mongoose.Connection;
  let Keys: mongoose.Model<Key>;
  const outboxes: Outbox[] = [];

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    producer = await Bus.connect({ url: testAmqpUrl(), producer: 'keys', ...admin.names });
    consumer = await Bus.connect({ url: testAmqpUrl(), producer: 'tunnel-sync', ...admin.names });
    spy = await EventSpy.start(testAmqpUrl(), admin.names.exchange);
    db = await mongoose.createConnection(testMongoUrl(uniqueName('bus-outbox-race'))).asPromise();
    const schema = new mongoose.Schema<Key>({ title: { type: String, required: true }, notes: { type: [String], default: [] } });
    schema.plugin(outboxFields);
    Keys = db.model<Key>('Key', schema);
  });

  afterAll(async () => {
    await Promise.all(outboxes.map((outbox) => outbox.stop()));
    await Promise.all([producer.close(), consumer.close(), spy.stop()]);
    await admin.cleanUp();
    await db.dropDatabase();
    await db.close();
  });

  function outbox(graceMs?: number): Outbox {
    const created = new Outbox({ connection: db, bus: producer, models: [Keys], collection: uniqueName('outbox'), intervalMs: 50, graceMs });
    created.start();
    outboxes.push(created);
    return created;
  }

  function copies(envelope: Envelope): number {
    return spy.events.filter((event) => event.id === envelope.id).length;
  }

  it('publishes every event of 30 concurrent writes to 30 aggregates exactly once, while the relay runs', async () => {
    const relay = outbox();
    const queue = admin.queue('bus-outbox-race');
    const handled = new Map<string, number>();
    await consumer.consume({
      queue,
      events: [KeyAdded],
      inbox: mongooseInbox(db),
      handler: async (envelope) => { handled.set(envelope.id, (handled.get(envelope.id) ?? 0) + 1); },
    });
    const added = Array.from({ length: 30 }, (_, i) => keyAdded(`user${i}`));
    // A second write to each aggregate, as a rename would be.
    const renamed = Array.from({ length: 30 }, (_, i) => keyAdded(`user${i}`));
    await Promise.all(added.map(async (envelope, i) => {
      const _id = new mongoose.Types.ObjectId();
      await relay.write([envelope], { model: Keys, id: _id }, (eventIds) => Keys.create({ _id, title: `key ${i}`, eventIds }));
      await relay.write([renamed[i]!], { model: Keys, id: _id }, (eventIds) => Keys.updateOne(
        { _id }, { $set: { title: `renamed ${i}` }, $push: { eventIds: { $each: eventIds } } },
      ));
    }));
    const events = [...added, ...renamed];

    await waitUntil(() => handled.size === 60, 20_000, 'every event to be handled');
    await waitUntil(async () => (await relay.pendingCount()) === 0, 5000, 'an empty outbox backlog');
    await sleep(300);
    expect(events.map(copies)).toEqual(events.map(() => 1));
    expect([...handled.values()]).toEqual(events.map(() => 1));
  });

  it('publishes each event of colliding writes to one document at most once, and every one the document kept', async () => {
    // FerretDB v1 updates by reading and rewriting the whole document, so colliding updates can lose
    // each other, and a lost update takes its event ids with it. An event whose change was overwritten
    // before a relay saw it committed is discarded; one seen committed goes out, since that state did
    // exist (its later loss is the colliding writers' race, which no outbox can undo).
    const relay = outbox(2000);
    const _id = new mongoose.Types.ObjectId();
    await Keys.create({ _id, title: 'shared' });
    const events = Array.from({ length: 30 }, (_, i) => keyAdded(`writer${i}`));
    await Promise.all(events.map((envelope, i) => relay.write([envelope], { model: Keys, id: _id }, (eventIds) => Keys.updateOne(
      { _id }, { $push: { notes: `note ${i}`, eventIds: { $each: eventIds } } },
    ))));

    const stored = await Keys.findById(_id).orFail().lean();
    expect(stored.eventIds).toHaveLength(stored.notes.length);
    await waitUntil(async () => (await relay.pendingCount()) === 0, 10_000, 'every staged event to be published or discarded');
    await sleep(300);
    const published = new Set(events.filter((envelope) => copies(envelope) > 0).map((envelope) => envelope.id));
    expect(stored.eventIds.filter((id) => !published.has(id))).toEqual([]);
    expect(events.filter((envelope) => copies(envelope) > 1)).toEqual([]);
  });
});
