import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { KeyRemoved, type Envelope } from '@tmuxme/events';
import { EventSpy, testAmqpUrl, testMongoUrl, uniqueName, type SpiedEvent } from '@tmuxme/testing';
import { Bus, OutboxRelay, outboxPlugin, pendingEventCount, type OutboxFields } from '../src/index.js';
import { BrokerAdmin, keyAdded, sleep, waitUntil } from './helpers.js';

interface Key extends OutboxFields {
  _id: mongoose.Types.ObjectId;
  title: string;
}

describe('outbox relay', () => {
  let admin: BrokerAdmin;
  let bus: Bus;
  let spy: EventSpy;
  let db: mongoose.Connection;
  let Keys: mongoose.Model<Key>;
  let relay: OutboxRelay;
  let finds = 0;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    bus = await Bus.connect({ url: testAmqpUrl(), producer: 'keys', ...admin.names });
    spy = await EventSpy.start(testAmqpUrl(), admin.names.exchange);
    db = await mongoose.createConnection(testMongoUrl(uniqueName('bus-outbox'))).asPromise();
    const schema = new mongoose.Schema<Key>({ title: { type: String, required: true } });
    schema.plugin(outboxPlugin);
    // Each relay pass reads each model once, so counting reads counts passes.
    schema.pre('find', () => { finds += 1; });
    Keys = db.model<Key>('Key', schema);
    // A long interval, so that only nudges make passes here.
    relay = new OutboxRelay({ bus, models: [Keys], intervalMs: 60_000 });
  });

  afterAll(async () => {
    await relay.stop();
    await spy.stop();
    await bus.close();
    await admin.cleanUp();
    await db.dropDatabase();
    await db.close();
  });

  function published(envelope: Envelope): SpiedEvent | undefined {
    return spy.events.find((event) => event.id === envelope.id);
  }

  it('publishes an event written with its document, then empties the outbox', async () => {
    const envelope = keyAdded();
    const key = await Keys.create({ title: 'laptop', outbox: [envelope] });
    expect(await pendingEventCount([Keys])).toBe(1);
    relay.nudge();

    await waitUntil(() => published(envelope) !== undefined, 5000, 'the published event');
    expect(published(envelope)).toEqual({ ...envelope, routingKey: 'key.added' });
    await waitUntil(async () => (await Keys.findById(key._id).lean())?.outbox.length === 0, 5000, 'an empty outbox');
    const stored = await Keys.findById(key._id).lean();
    expect(stored).toMatchObject({ title: 'laptop', deletedAt: null, outbox: [] });
    expect(await pendingEventCount([Keys])).toBe(0);
  });

  it('purges a tombstone once its event went out', async () => {
    const key = await Keys.create({ title: 'old key' });
    const removed = bus.envelope(KeyRemoved, { keyId: String(key._id), userId: 'u1', username: 'alice', fingerprint: 'SHA256:x' });
    await Keys.updateOne({ _id: key._id }, { $set: { deletedAt: new Date() }, $push: { outbox: removed } });
    relay.nudge();

    await waitUntil(() => published(removed) !== undefined, 5000, 'the KeyRemoved event');
    expect(published(removed)).toEqual({ ...removed, routingKey: 'key.removed' });
    await waitUntil(async () => (await Keys.countDocuments({ _id: key._id })) === 0, 5000, 'the purged tombstone');
  });

  it('relays several events of one document in order, and coalesces many nudges into one pass', async () => {
    await sleep(100);
    const events = [keyAdded('a'), keyAdded('b'), keyAdded('c')];
    await Keys.create({ title: 'busy', outbox: events });
    const other = keyAdded('d');
    await Keys.create({ title: 'other', outbox: [other] });

    finds = 0;
    for (let i = 0; i < 50; i += 1) relay.nudge();
    await waitUntil(() => published(other) !== undefined && events.every((event) => published(event)), 5000, 'all events');
    await sleep(200);
    expect(finds).toBe(1);
    const order = spy.events.map((event) => event.id).filter((id) => events.some((event) => event.id === id));
    expect(order).toEqual(events.map((event) => event.id));
    expect(await pendingEventCount([Keys])).toBe(0);
  });
});
