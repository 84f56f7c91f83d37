import type { EventData, SessionMoved } from '@tmuxme/events';
import type { Guest } from './invitation-mail.js';
import { joinBlocks } from './join-commands.js';
import { command, paragraph, renderMail, type MailContent } from './mail-blocks.js';

export type MovedSession = EventData<typeof SessionMoved>;

/** Short, for a guest who was invited already: who hosts, that the session moved and why, and how to join it again. */
export function sessionMovedMail(session: MovedSession, guest: Guest): MailContent {
  const host = session.host.username;
  return renderMail(`${host}'s session on tmux.me moved to another tunnel box`, [
    paragraph(`Hi ${guest.username},`),
    paragraph(`${host}'s tmux session on tmux.me moved to another tunnel box, ${session.to.tunnelHost}: `
      + `the one it was on, ${session.from.tunnelHost}, stopped answering.`),
    ...joinBlocks({ ...session, tunnelPort: session.to.tunnelPort }, { again: true }),
    paragraph('tmuxme join follows the move by itself, so with the tmuxme CLI this still works:'),
    command(`tmuxme join ${session.sessionId}`),
  ]);
}
