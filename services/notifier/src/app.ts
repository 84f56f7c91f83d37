import { hostname } from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { SessionDeclared, SessionMoved, UserDeleted, UserRegistered, UserUpdated } from '@tmuxme/events';
import { busPlugin, databasePlugin, healthPlugin, on, subscriptionsPlugin } from '@tmuxme/service-kit';
import { addressCollection, addressModel } from './model/address.js';
import { mailClaimCollection, mailClaimModel } from './model/mail-claim.js';
import { sentMailCollection, sentMailModel } from './model/sent-mail.js';
import { AddressBook } from './domain/address-book.js';
import { GuestMail } from './domain/guest-mail.js';
import { Invitations } from './domain/invitations.js';
import { MailLedger } from './domain/mail-ledger.js';
import { SessionMoves } from './domain/session-moves.js';
import { Mailer } from './mail/mailer.js';
import { forgetAddressOnUserDeleted } from './events/forget-address-on-user-deleted.js';
import { inviteGuestsOnSessionDeclared } from './events/invite-guests-on-session-declared.js';
import { mailGuestsOnSessionMoved } from './events/mail-guests-on-session-moved.js';
import { recordAddressOnUserRegistered } from './events/record-address-on-user-registered.js';

export interface NotifierOptions {
  mongoUrl: string;
  amqpUrl: string;
  exchange?: string;
  deadLetterExchange?: string;
  /** The queue this service's replicas share. */
  queue?: string;
  smtpUrl: string;
  mailFrom: string;
  mailReplyTo?: string;
  /** Where a new guest signs up and adds an SSH key. */
  publicUrl: string;
  smtpMaxConnections?: number;
  smtpMaxMessages?: number;
  prefetch?: number;
  maxDeliveries?: number;
  retryDelayMs?: number;
  /** How long a replica that claimed a mail may take to send it before another may. */
  claimLeaseMs?: number;
}

/** The notifier: mails each guest of a declared or moved session, exactly once, from its own address book. */
const notifierApp: FastifyPluginAsync<NotifierOptions> = async (app, options) => {
  await app.register(healthPlugin, { service: 'notifier' });
  await app.register(databasePlugin, { url: options.mongoUrl });

  const maxConnections = options.smtpMaxConnections ?? 10;
  const mailer = new Mailer({
    smtpUrl: options.smtpUrl, from: options.mailFrom, replyTo: options.mailReplyTo, maxConnections, maxMessages: options.smtpMaxMessages ?? 100,
  });
  // Registered before the bus so it runs after the consumers drained (onClose hooks run in reverse order).
  app.addHook('onClose', async () => mailer.close());
  await app.register(busPlugin, { url: options.amqpUrl, producer: 'notifier', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });

  await Promise.all([addressModel(app.db).init(), mailClaimModel(app.db).init(), sentMailModel(app.db).init()]);
  // The work goes to the collections directly: mongoose's document layer cost a quarter of the notifier's
  // CPU per mail (bench/notifier.ts), and these small records gain nothing from it.
  const addressBook = new AddressBook(addressCollection(app.db));
  const guestMail = new GuestMail({
    addressBook,
    ledger: new MailLedger({
      claims: mailClaimCollection(app.db), sent: sentMailCollection(app.db), leaseMs: options.claimLeaseMs ?? 60_000, holder: `${hostname()}:${process.pid}`,
    }),
    mailer,
    concurrency: maxConnections,
    metrics: {
      sent: app.metrics.counter('mails_sent_total', 'Mails to guests (invitations, moved sessions) the SMTP server accepted'),
      failed: app.metrics.counter('mail_failures_total', 'Mails to guests not sent on an attempt (the event is retried), by reason', ['reason']),
    },
  });
  const invitations = new Invitations({ guestMail, publicUrl: options.publicUrl });
  const moves = new SessionMoves(guestMail);

  await app.register(subscriptionsPlugin, {
    queue: options.queue ?? 'notifier',
    prefetch: options.prefetch ?? 50,
    maxDeliveries: options.maxDeliveries ?? 10,
    retryDelayMs: options.retryDelayMs ?? 1000,
    // Every handler here is idempotent by itself (per-recipient records, ordered address changes), and the
    // inbox's read and write per event would be nearly half of what a mail costs the database.
    inbox: false,
    subscriptions: [
      on(UserRegistered, recordAddressOnUserRegistered(addressBook)),
      on(UserUpdated, recordAddressOnUserRegistered(addressBook)),
      on(UserDeleted, forgetAddressOnUserDeleted(addressBook)),
      on(SessionDeclared, inviteGuestsOnSessionDeclared(invitations)),
      // Under `session.moved.<box id>`; the consumer binds to every box's.
      on(SessionMoved, mailGuestsOnSessionMoved(moves)),
    ],
  });
};

export default fp(notifierApp, { name: 'notifier-app' });
