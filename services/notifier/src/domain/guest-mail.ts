import type { BusLogger } from '@tmuxme/bus';
import type { Guest } from '../mail/invitation-mail.js';
import type { MailContent } from '../mail/mail-blocks.js';
import { ConcurrencyLimit } from '../mail/concurrency-limit.js';
import type { Mailer } from '../mail/mailer.js';
import type { AddressBook } from './address-book.js';
import type { MailLedger } from './mail-ledger.js';

/** The counters mails to guests report to (`app.metrics.counter` makes them). */
export interface GuestMailMetrics {
  sent: { inc(): void };
  failed: { inc(labels: { reason: string }, value?: number): void };
}

export interface GuestMailDeps {
  addressBook: AddressBook;
  ledger: MailLedger;
  mailer: Mailer;
  /** How many mails go out at once: the SMTP pool's size, so a claimed mail never queues for a connection. */
  concurrency: number;
  metrics: GuestMailMetrics;
}

/** One kind of mail to a session's guests: what the logs call it, and one guest's mail. */
export interface GuestMailKind {
  /** `invitation`, logged as "invitation sent" and "the SMTP server did not take an invitation". */
  name: string;
  article: 'a' | 'an';
  write(guest: Guest): MailContent;
}

/** Some guests have no address yet because their user events lag; the event is retried until they arrive. */
export class UnknownRecipientsError extends Error {
  override name = 'UnknownRecipientsError';
  constructor(readonly usernames: string[]) {
    super(`no e-mail address yet for ${usernames.join(', ')}; waiting for their user events`);
  }
}

/** Mails the guests of a session about one event, each once (see mail-ledger.ts), whatever the mail says. */
export class GuestMail {
  private readonly sending: ConcurrencyLimit;

  constructor(private readonly deps: GuestMailDeps) {
    this.sending = new ConcurrencyLimit(deps.concurrency);
  }

  /**
   * One mail per guest. Resolves only when every guest's mail was accepted by the SMTP server (now or on
   * an earlier delivery of the event); otherwise it throws after trying every guest it can, so the broker
   * redelivers the event and only the missing mails are sent then. `log` is the event's logger, bound to
   * its id and to the request that caused it.
   */
  async mailGuests(eventId: string, session: { sessionId: string; guests: Guest[] }, kind: GuestMailKind, log: BusLogger): Promise<void> {
    const guests = [...new Map(session.guests.map((guest) => [guest.username, guest])).values()];
    const emails = await this.deps.addressBook.emailsOf(guests.map((guest) => guest.username));
    const unknown = guests.filter((guest) => !emails.has(guest.username)).map((guest) => guest.username);
    const results = await Promise.allSettled(guests.filter((guest) => emails.has(guest.username))
      .map((guest) => this.sending.run(() => this.mailGuest(eventId, session.sessionId, guest, emails.get(guest.username)!, kind, log))));
    if (unknown.length > 0) this.deps.metrics.failed.inc({ reason: 'unknown-recipient' }, unknown.length);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    if (unknown.length > 0) throw new UnknownRecipientsError(unknown);
  }

  private async mailGuest(eventId: string, sessionId: string, guest: Guest, email: string, kind: GuestMailKind, log: BusLogger): Promise<void> {
    const { ledger, mailer, metrics } = this.deps;
    const key = `${eventId}:${guest.username}`;
    const claim = await ledger.claim(key);
    if (!claim) return;
    let messageId: string;
    try {
      messageId = await mailer.send({ key, to: email, ...kind.write(guest) });
    } catch (error) {
      await ledger.release(claim);
      metrics.failed.inc({ reason: 'smtp' });
      log.warn({ err: error, sessionId, guest: guest.username }, `the SMTP server did not take ${kind.article} ${kind.name}`);
      throw error;
    }
    await ledger.recordSent(claim, { sessionId, messageId });
    metrics.sent.inc();
    log.info({ sessionId, guest: guest.username, messageId }, `${kind.name} sent`);
  }
}
