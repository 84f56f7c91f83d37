import type { BusLogger } from '@tmuxme/bus';
import { invitationMail, type DeclaredSession } from '../mail/invitation-mail.js';
import type { GuestMail } from './guest-mail.js';

export class Invitations {
  constructor(private readonly deps: { guestMail: GuestMail; publicUrl: string }) {}

  /** One invitation per guest of a declared session, each sent once (GuestMail.mailGuests says when it resolves). */
  inviteGuests(eventId: string, session: DeclaredSession, log: BusLogger): Promise<void> {
    return this.deps.guestMail.mailGuests(eventId, session, {
      name: 'invitation', article: 'an', write: (guest) => invitationMail(session, guest, this.deps.publicUrl),
    }, log);
  }
}
