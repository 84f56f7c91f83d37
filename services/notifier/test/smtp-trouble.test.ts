import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type ChannelModel } from 'amqplib';
import type { Bus } from '@tmuxme/bus';
import { buildApp, eventually, MailCatcher, testAmqpUrl } from '@tmuxme/testing';
import notifierApp, { type NotifierOptions } from '../src/app.js';
import { connectProducer, emailOf, mailsPerRecipient, notifierOptions, sessionDeclared, userRegistered } from './notifier-app.js';

/** An SMTP relay in trouble: mail waits and then goes out once; past the retry budget the event is dead-lettered. */
let catcher: MailCatcher;
let broker: ChannelModel;
const running: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  catcher = await MailCatcher.start();
  broker = await connect(testAmqpUrl());
});
afterEach(async () => {
  await catcher.refuse(false);
  await catcher.clear();
  await Promise.all(running.splice(0).map((resource) => resource.close()));
});
afterAll(async () => {
  await broker?.close();
  await catcher?.stop();
});

/** A notifier whose log lines the test reads, with its producer and two registered guests. */
async function start(overrides: Partial<NotifierOptions>) {
  const options = notifierOptions(catcher.url, overrides);
  const logs: { msg: string; eventId?: string; reason?: string }[] = [];
  const app = await buildApp(notifierApp, options, { logger: { level: 'warn', stream: { write: (line: string) => logs.push(JSON.parse(line)) } } });
  const producer: Bus = await connectProducer(options);
  running.push(app, producer);
  await Promise.all(['bob', 'carol'].map((username) => producer.publish(userRegistered(username))));
  await eventually(async () => (await app.db.collection('addresses').countDocuments()) === 2);
  const metric = async (pattern: RegExp) => Number(pattern.exec((await app.inject({ url: '/metrics' })).body)?.[1] ?? 0);
  const failures = () => metric(/mail_failures_total\{reason="smtp",service="notifier"\} (\d+)/);
  const deliveries = (outcome: string) => metric(new RegExp(`events_consumed_total\\{type="SessionDeclared",outcome="${outcome}",service="notifier"\\} (\\d+)`));
  return { options, app, producer, logs, failures, deliveries };
}

const guests = [{ username: 'bob', access: 'rw' as const }, { username: 'carol', access: 'ro' as const }];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SMTP trouble', () => {
  it('keeps the mail while the relay refuses for 3 s, then sends each one once', async () => {
    const { producer, failures } = await start({ retryDelayMs: 200, maxDeliveries: 10 });
    await catcher.refuse(true);
    await Promise.all([20001, 20002, 20003].map((port) => producer.publish(sessionDeclared('alice', guests, port))));
    await sleep(3000);
    expect(await catcher.count()).toBe(0);
    expect(await failures()).toBeGreaterThan(0);

    await catcher.refuse(false);
    await catcher.waitFor(6, 20_000);
    await sleep(1000);
    const mails = await catcher.messages();
    const counts = mailsPerRecipient(mails);
    expect(counts.size).toBe(6);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(mails.map((mail) => mail.envelope.to[0]).sort()).toEqual([...Array(3).fill(emailOf('bob')), ...Array(3).fill(emailOf('carol'))]);
  });

  it('dead-letters the event once its deliveries are spent, and says so in the log and the metrics', async () => {
    const { options, producer, logs, failures, deliveries } = await start({ retryDelayMs: 50, maxDeliveries: 3 });
    await catcher.refuse(true);
    const event = sessionDeclared('alice', guests, 20004);
    await producer.publish(event);

    const channel = await broker.createChannel();
    const dead = await eventually(async () => (await channel.get(`${options.queue}.dead`, { noAck: true })) || undefined, 15_000);
    await channel.close();
    expect(JSON.parse(dead!.content.toString()).id).toBe(event.id);
    expect(await failures()).toBe(3 * guests.length);
    expect(await deliveries('retried')).toBe(2);
    expect(await deliveries('dead-lettered')).toBe(1);
    expect(await deliveries('handled')).toBe(0);
    expect(logs.filter((line) => line.msg === 'the SMTP server did not take an invitation' && line.eventId === event.id)).toHaveLength(3 * guests.length);
    expect(logs.find((line) => line.msg.includes('dead-lettering'))).toMatchObject({ eventId: event.id });
    expect(await catcher.count()).toBe(0);
  });
});
