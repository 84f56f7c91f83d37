import type { BusLogger } from '@tmuxme/bus';
import { invitationMail, type DeclaredSession, type Guest } from '../mail/invitation-mail.js';
import { ConcurrencyLimit } from '../mail/concurrency-limit.js';
import type { Mailer } from '../mail/mailer.js';
import type { AddressBook } from './address-book.js';
import type { MailLedger } from './mail-ledger.js';

/** The counters invitations report to (`app.metrics.counter` makes them). */
export interface InvitationMetrics {
  sent: { inc(): void };
  failed: { inc(labels: { reason: string }, value?: number): void };
}

export interface InvitationsDeps {
  addressBook: AddressBook;
  ledger: MailLedger;
  mailer: Mailer;
  /** How many mails go out at once: the SMTP pool's size, so a claimed mail never queues for a connection. */
  concurrency: number;
  publicUrl: string;
  metrics: InvitationMetrics;
}

/** Some guests have no address yet because their user events lag; the event is retried until they arrive. */
export class UnknownRecipientsError extends Error {
  override name = 'UnknownRecipientsError';
  constructor(readonly usernames: string[]) {
    super(`no e-mail address yet for ${usernames.join(', ')}; waiting for their user events`);
  }
}

export class Invitations {
  private readonly sending: ConcurrencyLimit;

  constructor(private readonly deps: InvitationsDeps) {
    this.sending = new ConcurrencyLimit(deps.concurrency);
  }

  /**
   * One mail per guest of a declared session. Resolves only when every guest's mail was accepted by
   * the SMTP server (now or on an earlier delivery of the event); otherwise it throws after trying every
   * guest it can, so the broker redelivers the event and only the missing mails are sent then.
   * `log` is the event's logger, bound to its id and to the request that declared the session.
   */
  async inviteGuests(eventId: string, session: DeclaredSession, log: BusLogger): Promise<void> {
    const guests = [...new Map(session.guests.map((guest) => [guest.username, guest])).values()];
    const emails = await this.deps.addressBook.emailsOf(guests.map((guest) => guest.username));
    const unknown = guests.filter((guest) => !emails.has(guest.username)).map((guest) => guest.username);
    const results = await Promise.allSettled(guests.filter((guest) => emails.has(guest.username))
      .map((guest) => this.sending.run(() => this.invite(eventId, session, guest, emails.get(guest.username)!, log))));
    if (unknown.length > 0) this.deps.metrics.failed.inc({ reason: 'unknown-recipient' }, unknown.length);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    if (unknown.length > 0) throw new UnknownRecipientsError(unknown);
  }

  private async invite(eventId: string, session: DeclaredSession, guest: Guest, email: string, log: BusLogger): Promise<void> {
    const { ledger, mailer, metrics } = this.deps;
    const key = `${eventId}:${guest.username}`;
    const claim = await ledger.claim(key);
    if (!claim) return;
    let messageId: string;
    try {
      messageId = await mailer.send({ key, to: email, ...invitationMail(session, guest, this.deps.publicUrl) });
    } catch (error) {
      await ledger.release(claim);
      metrics.failed.inc({ reason: 'smtp' });
      log.warn({ err: error, sessionId: session.sessionId, guest: guest.username }, 'the SMTP server did not take an invitation');
      throw error;
    }
    await ledger.recordSent(claim, { sessionId: session.sessionId, messageId });
    metrics.sent.inc();
    log.info({ sessionId: session.sessionId, guest: guest.username, messageId }, 'invitation sent');
  }
}
