import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { EventSpy, monitoredMongoUrl, testAmqpUrl, testMongoUrl, uniqueName } from '@tmuxme/testing';
import type { Envelope } from '@tmuxme/events';
import { Bus, Outbox, outboxFields, type OutboxFields, type OutboxOptions } from '../src/index.js';
import { BrokerAdmin, keyAdded, recordingLogger, sleep, waitUntil } from './helpers.js';

interface Key extends OutboxFields {
  _id: mongoose.Types.ObjectId;
  title: string;
}

describe('outbox', () => {
  let admin: BrokerAdmin;
  let bus: Bus;
  let spy: EventSpy;
  let db: mongoose.Connection;
  let Keys: mongoose.Model<Key>;
  const outboxes: Outbox[] = [];

  /** Each test stages into a collection of its own, so no relay sees another test's events. */
  function outbox(options: Partial<OutboxOptions> = {}): Outbox {
    // A long interval by default, so that only the nudges of `write` make passes.
    const created = new Outbox({ connection: db, bus, models: [Keys], collection: uniqueName('outbox'), intervalMs: 60_000, ...options });
    outboxes.push(created);
    return created;
  }

  /** The staging collection an outbox of this file writes to. */
  function relayCollection(relay: Outbox): string {
    return (relay as unknown as { staging: { collectionName: string } }).staging.collectionName;
  }

  function copies(envelope: Envelope): number {
    return spy.events.filter((event) => event.id === envelope.id).length;
  }

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    bus = await Bus.connect({ url: testAmqpUrl(), producer: 'keys', ...admin.names });
    spy = await EventSpy.start(testAmqpUrl(), admin.names.exchange);
    db = await mongoose.createConnection(monitoredMongoUrl(testMongoUrl(uniqueName('bus-outbox')))).asPromise();
    const schema = new mongoose.Schema<Key>({ title: { type: String, required: true } });
    schema.plugin(outboxFields);
    Keys = db.model<Key>('Key', schema);
  });

  afterEach(async () => {
    await Promise.all(outboxes.splice(0).map((o) => o.stop()));
  });

  afterAll(async () => {
    await spy.stop();
    await bus.close();
    await admin.cleanUp();
    await db.dropDatabase();
    await db.close();
  });

  it("publishes an inserted document's events without a pass reading the staging collection, once each", async () => {
    const relay = outbox();
    const passes: string[] = [];
    db.getClient().on('commandStarted', (event: { commandName: string; command: Record<string, unknown> }) => {
      if (event.commandName === 'find' && event.command.find === relayCollection(relay)) passes.push('pass');
    });
    const events = [keyAdded(), keyAdded()];
    await Promise.all(events.map((added) => {
      const _id = new mongoose.Types.ObjectId();
      return relay.write([added], { model: Keys, id: _id, inserted: true }, (eventIds) => Keys.create({ _id, title: 'fast', eventIds }));
    }));
    await waitUntil(() => events.every((added) => copies(added) === 1), 5000, 'both events');
    await waitUntil(async () => (await relay.pendingCount()) === 0, 5000, 'the staged copies to go');
    relay.nudge();
    await sleep(300);
    expect(events.map(copies)).toEqual([1, 1]);
    expect(passes).toEqual(['pass']);
  });

  it('publishes an event once its aggregate recorded it, then deletes the staged copy', async () => {
    const relay = outbox();
    const added = keyAdded();
    const _id = new mongoose.Types.ObjectId();
    let stagedDuringApply = -1;
    const created = await relay.write([added], { model: Keys, id: _id }, async (eventIds) => {
      stagedDuringApply = await relay.pendingCount();
      return Keys.create({ _id, title: 'laptop', eventIds });
    });
    expect(stagedDuringApply).toBe(1);
    expect(created.title).toBe('laptop');

    await waitUntil(() => copies(added) === 1, 5000, 'the published event');
    expect(spy.events.find((event) => event.id === added.id)).toEqual({ ...added, routingKey: 'key.added' });
    await waitUntil(async () => (await relay.pendingCount()) === 0, 5000, 'the staged copy to go');

    // An update, with the id as the hex string a route hands over: the outbox casts it as the model would.
    const renamed = keyAdded('bob');
    await relay.write([renamed], { model: Keys, id: String(_id) }, (eventIds) => Keys.updateOne(
      { _id }, { $set: { title: 'desk' }, $push: { eventIds: { $each: eventIds } } },
    ));
    await waitUntil(() => copies(renamed) === 1, 5000, 'the second event');
    await waitUntil(async () => (await relay.pendingCount()) === 0, 5000, 'the staged copy to go');
    expect(await Keys.findById(_id).lean()).toMatchObject({ title: 'desk', deletedAt: null, eventIds: [added.id, renamed.id] });
    await sleep(200);
    expect([copies(added), copies(renamed)]).toEqual([1, 1]);
  });

  it('never publishes an event whose aggregate write failed, and unstages it at once', async () => {
    const relay = outbox();
    const _id = new mongoose.Types.ObjectId();
    await Keys.create({ _id, title: 'taken' });
    const lost = keyAdded();
    const duplicate = relay.write([lost], { model: Keys, id: _id }, (eventIds) => Keys.create({ _id, title: 'again', eventIds }));
    await expect(duplicate).rejects.toMatchObject({ code: 11000 });
    expect(await relay.pendingCount()).toBe(0);
    relay.nudge();
    await sleep(300);
    expect(copies(lost)).toBe(0);
  });

  it('discards after graceMs a staged event its aggregate never recorded, without holding back the others', async () => {
    const logger = recordingLogger();
    const relay = outbox({ graceMs: 1000, intervalMs: 50, logger });
    relay.start();
    // An update that matches nothing: the state change did not happen, so neither may its event.
    const ghost = keyAdded('ghost');
    await relay.write([ghost], { model: Keys, id: new mongoose.Types.ObjectId() }, (eventIds) => Keys.updateOne(
      { _id: new mongoose.Types.ObjectId() }, { $push: { eventIds: { $each: eventIds } } },
    ));
    const real = keyAdded('real');
    const _id = new mongoose.Types.ObjectId();
    await relay.write([real], { model: Keys, id: _id }, (eventIds) => Keys.create({ _id, title: 'real', eventIds }));

    await waitUntil(() => copies(real) === 1, 5000, 'the recorded event');
    // Too young to tell from a write still in flight.
    expect(await relay.pendingCount()).toBe(1);
    await waitUntil(async () => (await relay.pendingCount()) === 0, 5000, 'the unrecorded event to be discarded');
    expect(copies(ghost)).toBe(0);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toEqual([expect.objectContaining({ obj: expect.objectContaining({ eventId: ghost.id, type: 'KeyAdded' }) })]);
    await sleep(200);
    expect(copies(ghost)).toBe(0);
  });

  it('stages again after a write slower than the grace, so its event still goes out', async () => {
    const logger = recordingLogger();
    const relay = outbox({ graceMs: 300, intervalMs: 50, logger });
    relay.start();
    const slow = keyAdded('slow');
    const _id = new mongoose.Types.ObjectId();
    await relay.write([slow], { model: Keys, id: _id }, async (eventIds) => {
      await waitUntil(() => logger.lines.some((line) => line.level === 'warn'), 5000, 'the relay to give up on the staged event');
      return Keys.create({ _id, title: 'slow', eventIds });
    });
    await waitUntil(() => copies(slow) === 1, 5000, 'the event of the slow write');
    await waitUntil(async () => (await relay.pendingCount()) === 0, 5000, 'the staged copy to go');
    await sleep(200);
    expect(copies(slow)).toBe(1);
  });

  it('refuses a model it does not relay, before anything is written', async () => {
    const otherSchema = new mongoose.Schema({ name: String });
    otherSchema.plugin(outboxFields);
    const Others = db.model('Other', otherSchema);
    const relay = outbox();
    let applied = false;
    const write = relay.write([keyAdded()], { model: Others, id: new mongoose.Types.ObjectId() }, async () => { applied = true; });
    await expect(write).rejects.toThrow(/does not relay the "others" collection/);
    expect(applied).toBe(false);
    expect(await relay.pendingCount()).toBe(0);
  });
});
