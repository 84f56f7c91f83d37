import type { BusLogger } from '@tmuxme/bus';
import { sessionMovedMail, type MovedSession } from '../mail/session-moved-mail.js';
import type { GuestMail } from './guest-mail.js';

export class SessionMoves {
  constructor(private readonly guestMail: GuestMail) {}

  /**
   * A short mail per guest of a session that moved to another tunnel box, each sent once per move, exactly
   * as invitations are: a guest without an address yet has the event retried (GuestMail.mailGuests).
   */
  mailGuests(eventId: string, session: MovedSession, log: BusLogger): Promise<void> {
    return this.guestMail.mailGuests(eventId, session, {
      name: 'moved-session notice', article: 'a', write: (guest) => sessionMovedMail(session, guest),
    }, log);
  }
}
