import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import mongoose from 'mongoose';
import type { Bus } from '@tmuxme/bus';
import { eventually, freePort, MailCatcher, testAmqpUrl, type CaughtMail } from '@tmuxme/testing';
import type { NotifierOptions } from '../src/app.js';
import { connectProducer, mailsPerRecipient, notifierOptions, recipientKey, sessionDeclared, userRegistered } from './notifier-app.js';

/** main.ts as a process: a clean stop on SIGTERM, and a SIGKILL mid-burst after which the next process finishes the job. */
const root = resolve(import.meta.dirname, '../../..');
const sendsAtOnce = 5;
const children: ChildProcess[] = [];
const opened: { close(): Promise<unknown> }[] = [];
let catcher: MailCatcher;

beforeAll(async () => {
  catcher = await MailCatcher.start();
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(opened.splice(0).map((resource) => resource.close()));
  await catcher.refuse(false);
  await catcher.clear();
});
afterAll(async () => {
  await catcher?.stop();
});

/** main.ts as its own process, the way the containers run it; resolves once it answers /readyz. */
async function startNotifier(options: NotifierOptions) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'services/notifier/src/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH!, LOG_LEVEL: 'error', PORT: String(port),
      MONGODB_URI: options.mongoUrl, AMQP_URL: testAmqpUrl(), AMQP_EXCHANGE: options.exchange!,
      AMQP_DEAD_LETTER_EXCHANGE: options.deadLetterExchange!, AMQP_QUEUE: options.queue!, SMTP_URL: catcher.url,
      SMTP_MAX_CONNECTIONS: String(sendsAtOnce), MAIL_CLAIM_LEASE_SECONDS: '5', RETRY_DELAY_MS: '200', MAX_DELIVERIES: '20',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, 30_000);
  return { stop: (signal: NodeJS.Signals) => { child.kill(signal); return exited; } };
}

/** A running notifier, 40 registered guests and a burst of 150 sessions with one or two of them each. */
async function burst() {
  const options = notifierOptions(catcher.url);
  const producer: Bus = await connectProducer(options);
  const db = await mongoose.createConnection(options.mongoUrl).asPromise();
  opened.push(producer, db);
  const first = await startNotifier(options);
  const users = Array.from({ length: 40 }, (_, i) => `guest${i}`);
  await Promise.all(users.map((username) => producer.publish(userRegistered(username))));
  await eventually(async () => (await db.collection('addresses').countDocuments()) === users.length, 20_000);
  const events = Array.from({ length: 150 }, (_, i) => sessionDeclared('host', Array.from({ length: 1 + (i % 2) }, (_, k) => ({
    username: users[(i + k) % users.length]!, access: 'rw' as const,
  })), 22000 + i));
  await Promise.all(events.map((event) => producer.publish(event)));
  return { options, first, expected: events.reduce((sum, event) => sum + event.data.guests.length, 0) };
}

/** Message-IDs per (session, recipient). */
function messageIds(mails: CaughtMail[]): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  for (const mail of mails) ids.set(recipientKey(mail), (ids.get(recipientKey(mail)) ?? new Set()).add(mail.messageId ?? ''));
  return ids;
}

async function finishWithSecondProcess(options: NotifierOptions, expected: number) {
  await startNotifier(options);
  await catcher.waitFor(expected, 60_000);
  await new Promise((done) => setTimeout(done, 1500));
  return catcher.messages();
}

// A hang guard above the waits inside (30 s for a third of the mails, 60 s for the rest): Jest's default 30 s ran
// out on a loaded machine while the waits were still within theirs.
const crashTestTimeoutMs = 120_000;

describe('a notifier process', () => {
  it('stops cleanly on SIGTERM', async () => {
    const notifier = await startNotifier(notifierOptions(catcher.url));
    expect(await notifier.stop('SIGTERM')).toBe(0);
  });


  it('killed while the relay holds back its mail: every guest gets exactly one after the restart', async () => {
    const { options, first, expected } = await burst();
    await catcher.waitFor(Math.floor(expected / 3), 30_000);
    await catcher.refuse(true);
    // Long enough for every mail the relay accepted to be recorded; the rest are being refused.
    await new Promise((done) => setTimeout(done, 300));
    await first.stop('SIGKILL');
    expect(await catcher.count()).toBeLessThan(expected);
    await catcher.refuse(false);

    const mails = await finishWithSecondProcess(options, expected);
    const counts = mailsPerRecipient(mails);
    expect(mails).toHaveLength(expected);
    expect(counts.size).toBe(expected);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
  }, crashTestTimeoutMs);

  it('killed the instant the relay accepted a mail: nothing is lost, and a repeat keeps its Message-ID', async () => {
    const { options, first, expected } = await burst();
    // waitFor resolves within moments of the relay storing a mail, while the sender may not have heard so yet: the
    // one window where the sender cannot know. Those few mails go out again after the lease, with the same Message-ID.
    await catcher.waitFor(Math.floor(expected / 3), 30_000);
    await first.stop('SIGKILL');

    const mails = await finishWithSecondProcess(options, expected);
    const ids = messageIds(mails);
    expect(ids.size).toBe(expected);
    expect([...ids.values()].every((set) => set.size === 1)).toBe(true);
    expect(mails.length - expected).toBeLessThanOrEqual(sendsAtOnce);
  }, crashTestTimeoutMs);
});
