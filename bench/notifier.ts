/**
 * Measures one notifier replica (services/notifier/src/main.ts as its own process, as deployed) mailing
 * a burst of SessionDeclared events, one guest each, through RabbitMQ and FerretDB to a local SMTP
 * server (a MailCatcher in this process): from the first publish to the last mail the SMTP server
 * accepted. It also checks that every guest got exactly one mail.
 *
 *   npm run bench:notifier            (EVENTS=1000 PREFETCH=50 SMTP_MAX_CONNECTIONS=20 SMTP_MAX_MESSAGES=100 by default;
 *                                      BENCH_QUICK=1: EVENTS=100)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose from 'mongoose';
import { Bus } from '@tmuxme/bus';
import { createEnvelope, SessionDeclared, UserRegistered } from '@tmuxme/events';
import { freePort, MailCatcher, startTestServers, uniqueName } from '@tmuxme/testing';
import { figures } from './src/report.js';
import { size } from './src/sizes.js';
import { uniqueDatabaseUrl } from './src/stack.js';

const events = size('EVENTS', 1000, 100);
const tuning = {
  PREFETCH: process.env.PREFETCH ?? '50',
  SMTP_MAX_CONNECTIONS: process.env.SMTP_MAX_CONNECTIONS ?? '20',
  SMTP_MAX_MESSAGES: process.env.SMTP_MAX_MESSAGES ?? '100',
};
const warmUp = 20;
const figure = figures('notifier');

const servers = await startTestServers();
const { amqpUrl } = servers;
const mongoUrl = uniqueDatabaseUrl(servers.mongoUrl, 'bench_notifier');
const catcher = await MailCatcher.start();
const names = { exchange: uniqueName('bench.events'), deadLetterExchange: uniqueName('bench.dlx'), queue: uniqueName('bench-notifier') };
const port = await freePort();
const notifier = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '../services/notifier/src/main.ts')], {
  env: {
    PATH: process.env.PATH, LOG_LEVEL: 'warn', PORT: String(port), MONGODB_URI: mongoUrl, AMQP_URL: amqpUrl,
    AMQP_EXCHANGE: names.exchange, AMQP_DEAD_LETTER_EXCHANGE: names.deadLetterExchange, AMQP_QUEUE: names.queue, SMTP_URL: catcher.url, ...tuning,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const notifierExited = new Promise((r) => notifier.once('exit', r));
const db = await mongoose.createConnection(mongoUrl).asPromise();
const producer = await Bus.connect({ url: amqpUrl, producer: 'bench', exchange: names.exchange, deadLetterExchange: names.deadLetterExchange });

/** CPU seconds the notifier process has used so far, where /proc tells (Linux counts in 1/100 s). */
function notifierCpuSeconds(): number | undefined {
  try {
    const fields = readFileSync(`/proc/${notifier.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

const guest = (i: number) => `guest${i % events}`;
const declared = (i: number) => createEnvelope(SessionDeclared, {
  sessionId: `bench-${i}`, host: { userId: 'u-host', username: 'host' }, guests: [{ userId: `u-${guest(i)}`, username: guest(i), access: 'rw' }],
  tunnelHost: 'tunnel.tmux.example', tunnelPort: 22, port: 20000 + i, private: false, joinCommand: `ssh -p ${20000 + i} tmuxme@tunnel.tmux.example`,
  jumpJoinCommand: `ssh -J join@tunnel.tmux.example -o HostKeyAlias=tunnel.tmux.example:${20000 + i} -p ${20000 + i} tmuxme@127.0.0.1`,
}, { producer: 'sessions' });

/** Publishes concurrently, as the sessions service's relays would, and resolves once the broker confirmed them all. */
const publishAll = (count: number, first = 0) => Promise.all(Array.from({ length: count }, (_, i) => producer.publish(declared(first + i))));

try {
  while ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status !== 200) {
    if (notifier.exitCode !== null) throw new Error(`the notifier exited with ${notifier.exitCode} before it was ready`);
    await sleep(100);
  }
  await Promise.all(Array.from({ length: events }, (_, i) => producer.publish(createEnvelope(UserRegistered, {
    userId: `u-${guest(i)}`, username: guest(i), email: `${guest(i)}@example.com`,
  }, { producer: 'accounts' }))));
  while ((await db.collection('addresses').countDocuments()) < events) await sleep(100);

  // Opens the SMTP pool and warms the database and the JIT, so the burst measures the steady state.
  await publishAll(warmUp, events);
  await catcher.waitForCount(warmUp, 30_000);
  await catcher.clear();

  console.log(`${events} SessionDeclared events, one guest each; ${Object.entries(tuning).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const cpuBefore = notifierCpuSeconds();
  const started = performance.now();
  await publishAll(events);
  const published = performance.now();
  await catcher.waitForCount(events, 300_000);
  const done = performance.now();
  const cpuAfter = notifierCpuSeconds();

  await sleep(1000);
  const mails = await catcher.messages();
  const recipients = new Set(mails.map((mail) => mail.envelope.to[0]));
  const exact = mails.length === events && recipients.size === events;
  const cpuPerMail = cpuBefore !== undefined && cpuAfter !== undefined ? (cpuAfter - cpuBefore) * 1000 / events : undefined;
  const cpu = cpuPerMail === undefined ? '' : `; the notifier used ${cpuPerMail.toFixed(1)} ms CPU per mail`;
  console.log(`published in ${((published - started) / 1000).toFixed(2)} s; last mail accepted after ${((done - started) / 1000).toFixed(2)} s${cpu}`);
  const rate = events / ((done - started) / 1000);
  console.log(`${rate.toFixed(0)} mails/s (target ≥ 200); ${mails.length} mails to ${recipients.size} guests: ${exact ? 'exactly one each' : 'NOT one each'}`);
  figure('mails', rate, 'mails/s', '>= 200');
  if (cpuPerMail !== undefined) figure('notifier CPU per mail', cpuPerMail, 'ms');
  if (!exact) throw new Error(`${mails.length} mails to ${recipients.size} guests, not one to each of ${events}`);
} finally {
  notifier.kill('SIGTERM');
  await notifierExited;
  await producer.close();
  await db.close();
  await catcher.stop();
  await servers.stop();
}
