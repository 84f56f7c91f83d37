import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bus } from '@tmuxme/bus';
import { eventually, MailCatcher } from '@tmuxme/testing';
import { buildNotifierApp, connectProducer, mailsPerRecipient, notifierOptions, sessionDeclared, userRegistered } from './notifier-app.js';

/** Replicas compete for one queue, and every mail still goes out exactly once. */
let catcher: MailCatcher;
let replicas: Awaited<ReturnType<typeof buildNotifierApp>>[] = [];
let producer: Bus;
const options = () => notifierOptions(catcher.url, { prefetch: 10 });

beforeAll(async () => {
  catcher = await MailCatcher.start();
});
afterAll(async () => {
  await Promise.all(replicas.map((app) => app.close()));
  await producer?.close();
  await catcher?.stop();
});

describe('two notifier replicas on one queue and one database', () => {
  it('send each of 200 sessions one mail per guest, even when every event is delivered twice', async () => {
    const shared = options();
    replicas = [await buildNotifierApp(shared), await buildNotifierApp(shared)];
    producer = await connectProducer(shared);
    const users = Array.from({ length: 30 }, (_, i) => `guest${i}`);
    await Promise.all(users.map((username) => producer.publish(userRegistered(username))));
    await eventually(async () => (await replicas[0]!.db.collection('addresses').countDocuments()) === users.length);

    const events = Array.from({ length: 200 }, (_, i) => sessionDeclared('host', Array.from({ length: 1 + (i % 3) }, (_, k) => ({
      username: users[(i + k) % users.length]!, access: k === 1 ? 'ro' as const : 'rw' as const,
    })), 21000 + i));
    const expected = events.reduce((sum, event) => sum + event.data.guests.length, 0);
    // Both copies go out back to back, so the replicas often hold the two deliveries at the same moment.
    await Promise.all(events.flatMap((event) => [producer.publish(event), producer.publish(event)]));

    await catcher.waitFor(expected, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const mails = await catcher.messages();
    const counts = mailsPerRecipient(mails);
    expect(mails).toHaveLength(expected);
    expect(counts.size).toBe(expected);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);

    const sentBy = await Promise.all(replicas.map(async (app) => (await app.inject({ url: '/metrics' })).body));
    const sent = sentBy.map((body) => Number(/mails_sent_total\{service="notifier"\} (\d+)/.exec(body)?.[1] ?? 0));
    expect(sent[0]! + sent[1]!).toBe(expected);
    expect(Math.min(...sent)).toBeGreaterThan(0);
  });
});
