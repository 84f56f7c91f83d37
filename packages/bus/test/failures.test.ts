import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { KeyAdded } from '@tmuxme/events';
import { testAmqpUrl, testMongoUrl, uniqueName } from '@tmuxme/testing';
import { Bus, mongooseInbox } from '../src/index.js';
import { BrokerAdmin, keyAdded, recordingLogger, sleep, waitUntil } from './helpers.js';

describe('consumer failures', () => {
  const logger = recordingLogger();
  let admin: BrokerAdmin;
  let bus: Bus;
  let db: mongoose.Connection;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    bus = await Bus.connect({ url: testAmqpUrl(), producer: 'keys', logger, ...admin.names });
    db = await mongoose.createConnection(testMongoUrl(uniqueName('bus-inbox'))).asPromise();
  });

  afterAll(async () => {
    await bus.close();
    await admin.cleanUp();
    await db.dropDatabase();
    await db.close();
  });

  it('dead-letters a message whose handler keeps failing after maxDeliveries, and keeps the queue flowing', async () => {
    const queue = admin.queue('bus-failing');
    const attempts = new Map<string, number>();
    const bad = keyAdded('mallory');
    const goodMeanwhile = keyAdded('alice');
    const goodAfter = keyAdded('bob');
    await bus.consume({
      queue,
      events: [KeyAdded],
      maxDeliveries: 3,
      retryDelayMs: 100,
      handler: async (envelope, { log }) => {
        attempts.set(envelope.id, (attempts.get(envelope.id) ?? 0) + 1);
        log.info({}, 'handling');
        if (envelope.data.username === 'mallory') throw new Error('cannot handle mallory');
      },
    });

    const started = Date.now();
    await bus.publish(bad);
    await bus.publish(goodMeanwhile);
    await waitUntil(() => attempts.has(goodMeanwhile.id), 5000, 'the good message beside the failing one');
    expect(attempts.get(bad.id)).toBe(1);

    await waitUntil(async () => (await admin.messageCount(`${queue}.dead`)) === 1, 10_000, 'the dead letter');
    expect(attempts.get(bad.id)).toBe(3);
    // The back-off between deliveries (100 ms, then 200 ms) keeps the failing handler from spinning.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);

    await bus.publish(goodAfter);
    await waitUntil(() => attempts.has(goodAfter.id), 5000, 'the good message after the dead letter');
    await sleep(200);
    expect(attempts.get(bad.id)).toBe(3);
    expect(attempts.get(goodMeanwhile.id)).toBe(1);
    expect(attempts.get(goodAfter.id)).toBe(1);

    const [dead] = await admin.drain(`${queue}.dead`);
    expect(JSON.parse(dead!.content)).toEqual(bad);
    expect(dead!.properties.headers?.['x-first-death-reason']).toBe('delivery_limit');
    expect(await admin.messageCount(queue)).toBe(0);

    // The handler's lines and the consumer's retry lines all name the event and the request behind it.
    const aboutBad = logger.lines.filter((line) => 'eventId' in line.obj && line.obj.eventId === bad.id);
    expect(aboutBad.map((line) => line.msg)).toEqual([
      'handling', 'event handler failed; will retry', 'handling', 'event handler failed; will retry',
      'handling', 'event handler failed for the last time; dead-lettering',
    ]);
    for (const line of aboutBad) expect(line.obj).toMatchObject({ requestId: 'req-1', eventId: bad.id, type: 'KeyAdded' });
  });

  it('dead-letters poison at once without calling the handler: non-JSON, and an envelope breaking its contract', async () => {
    const queue = admin.queue('bus-poison');
    let calls = 0;
    await bus.consume({ queue, events: [KeyAdded], handler: async () => { calls += 1; } });
    const broken = { ...keyAdded(), data: { keyId: 'k1' } };

    await admin.publishRaw(KeyAdded.routingKey, 'this is { not json');
    await admin.publishRaw(KeyAdded.routingKey, JSON.stringify(broken));

    await waitUntil(async () => (await admin.messageCount(`${queue}.dead`)) === 2, 5000, 'two dead letters');
    await sleep(200);
    expect(calls).toBe(0);
    const dead = await admin.drain(`${queue}.dead`);
    expect(dead.map((message) => message.content)).toEqual(['this is { not json', JSON.stringify(broken)]);
    expect(dead.map((message) => message.properties.headers?.['x-first-death-reason'])).toEqual(['rejected', 'rejected']);
    const logged = logger.lines.filter((line) => line.msg === 'poison message dead-lettered' && 'queue' in line.obj && line.obj.queue === queue);
    expect(logged).toHaveLength(2);
    expect(await admin.messageCount(queue)).toBe(0);
  });

  it('runs the handler once for an envelope published twice when it has an inbox', async () => {
    const queue = admin.queue('bus-inbox');
    const inbox = mongooseInbox(db);
    const handled: string[] = [];
    await bus.consume({
      queue,
      events: [KeyAdded],
      inbox,
      // One at a time, so the last message handled means the ones before it were settled.
      prefetch: 1,
      handler: async (envelope) => { handled.push(envelope.id); },
    });
    const twice = keyAdded();
    const last = keyAdded();
    await bus.publish(twice);
    await bus.publish(twice);
    await bus.publish(last);

    await waitUntil(() => handled.includes(last.id), 5000, 'the last message');
    expect(handled).toEqual([twice.id, last.id]);
    expect(await inbox.has(twice.id)).toBe(true);
    expect(await inbox.has(keyAdded().id)).toBe(false);
    await inbox.record(twice.id, twice.type);
    expect(await admin.messageCount(queue)).toBe(0);
  });
});
