import { randomUUID } from 'node:crypto';
import { Bus } from '@tmuxme/bus';
import { createEnvelope, SessionDeclared, SessionMoved, UserRegistered, type Envelope, type EventData } from '@tmuxme/events';
import { buildApp, eventually, MailCatcher, testAmqpUrl, testExchanges, testMongoUrl, uniqueName, type CaughtMail } from '@tmuxme/testing';
import notifierApp, { type NotifierOptions } from '../src/app.js';

const mailFrom = 'tmux.me <invite@tmux.me>';
export const replyTo = 'help@tmux.example';
export const publicUrl = 'https://tmux.example/start';
/** Short, so the tests see a dead replica's claim expire. */
export const claimLeaseMs = 3000;

export function notifierOptions(smtpUrl: string, overrides: Partial<NotifierOptions> = {}): NotifierOptions {
  return {
    mongoUrl: testMongoUrl(uniqueName('notifier')),
    amqpUrl: testAmqpUrl(),
    ...testExchanges(),
    queue: uniqueName('notifier'),
    smtpUrl,
    mailFrom,
    mailReplyTo: replyTo,
    publicUrl,
    retryDelayMs: 100,
    claimLeaseMs,
    ...overrides,
  };
}

export const buildNotifierApp = (options: NotifierOptions) => buildApp(notifierApp, options);

export const emailOf = (username: string) => `${username.toLowerCase()}@example.com`;

export const userRegistered = (username: string, email = emailOf(username)) =>
  createEnvelope(UserRegistered, { userId: `u-${username}`, username, email }, { producer: 'accounts' });

type Session = EventData<typeof SessionDeclared>;
export const tunnelHost = 'tunnel.tmux.example';
export const tunnelPort = 2222;
export const jumpCommand = (port: number, box = tunnelHost) => `ssh -J join@${box}:${tunnelPort} -o HostKeyAlias=${box}:${port} -p ${port} tmuxme@127.0.0.1`;

/**
 * A declared session as the sessions service would publish it (a public one unless `extra` says otherwise);
 * the port tells sessions apart in the mails. Guests get the user ids accounts would have given them.
 */
export function sessionDeclared(host: string, guests: Omit<Session['guests'][number], 'userId'>[], port: number, extra: Partial<Session> = {}): Envelope<Session> {
  return createEnvelope(SessionDeclared, {
    sessionId: randomUUID(),
    host: { userId: `u-${host}`, username: host },
    guests: guests.map((guest) => ({ userId: `u-${guest.username}`, ...guest })),
    tunnelHost,
    tunnelPort,
    port,
    private: false,
    joinCommand: `ssh -p ${port} tmuxme@${tunnelHost}`,
    jumpJoinCommand: jumpCommand(port),
    ...extra,
  }, { producer: 'sessions' });
}

type Moved = EventData<typeof SessionMoved>;
/** The box a moved session is on now. */
export const movedHost = 'tunnel-b.tmux.example';

/**
 * What sessions publishes when the host of `declared` moved it to box-2 (movedHost), on `port` there: same id,
 * host and guests, the new box's commands (`extra` adds the pinned ones or makes it private). It travels as
 * `session.moved.box-2`.
 */
export function sessionMoved(declared: Session, port: number, extra: Partial<Moved> = {}): Envelope<Moved> {
  return createEnvelope(SessionMoved, {
    sessionId: declared.sessionId,
    host: declared.host,
    guests: declared.guests,
    boxId: 'box-2',
    private: declared.private,
    from: { boxId: 'box-1', tunnelHost: declared.tunnelHost, port: declared.port },
    to: { boxId: 'box-2', tunnelHost: movedHost, tunnelPort, port },
    joinCommand: `ssh -p ${port} tmuxme@${movedHost}`,
    jumpJoinCommand: jumpCommand(port, movedHost),
    ...extra,
  }, { producer: 'sessions' });
}

/** The other services' side of the broker: publishes on the test's exchange. */
export const connectProducer = (options: Pick<NotifierOptions, 'exchange' | 'deadLetterExchange'>) =>
  Bus.connect({ url: testAmqpUrl(), producer: 'test', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });

/**
 * A notifier mailing through a Mailpit of its own, with these users (username, and e-mail if not the usual) in its
 * address book, and a producer on its exchange.
 */
export async function startNotifier(users: (string | [username: string, email: string])[]) {
  const catcher = await MailCatcher.start();
  const options = notifierOptions(catcher.url);
  const app = await buildNotifierApp(options);
  const producer = await connectProducer(options);
  for (const user of users) await producer.publish(typeof user === 'string' ? userRegistered(user) : userRegistered(...user));
  await eventually(async () => (await app.db.collection('addresses').countDocuments()) === users.length);
  const close = async () => {
    await app.close();
    await producer.close();
    await catcher.stop();
  };
  return { catcher, app, producer, close };
}

/** Both hops pinned, as the sessions service gives it; the quotes test the HTML escaping too. */
export const pinnedJumpCommand = (port: number, box = tunnelHost) =>
  `ssh -o KnownHostsCommand="/bin/echo %H ssh-ed25519 HOST" -o ProxyCommand="ssh -o KnownHostsCommand='/bin/echo %%H ssh-ed25519 BOX' `
  + `-p ${tunnelPort} -W %h:%p join@${box}" -p ${port} tmuxme@127.0.0.1`;

/** Resolves once the notifier got past everything published so far: a marker user published last has arrived. */
let markers = 0;
export async function settled(producer: Bus, app: Awaited<ReturnType<typeof buildNotifierApp>>) {
  const marker = `marker${markers++}`;
  await producer.publish(userRegistered(marker));
  await eventually(async () => (await app.db.collection('addresses').countDocuments({ _id: marker as never })) === 1);
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/** Which session (by its port) and which recipient a mail was for. */
export const recipientKey = (mail: CaughtMail) => `${/ssh -p (\d+) /.exec(mail.text)?.[1]}:${mail.envelope.to.join(',')}`;

/** How many mails each (session port, recipient) received. */
export function mailsPerRecipient(mails: CaughtMail[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of mails) counts.set(recipientKey(mail), (counts.get(recipientKey(mail)) ?? 0) + 1);
  return counts;
}
