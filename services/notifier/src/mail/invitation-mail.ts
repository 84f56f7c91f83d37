import type { EventData, SessionDeclared } from '@tmuxme/events';
import { joinBlocks } from './join-commands.js';
import { paragraph, renderMail, type Block, type MailContent } from './mail-blocks.js';

export type DeclaredSession = EventData<typeof SessionDeclared>;
export type Guest = DeclaredSession['guests'][number];

function blocks(session: DeclaredSession, guest: Guest, publicUrl: string): Block[] {
  const host = session.host.username;
  return [
    paragraph(`Hi ${guest.username},`),
    paragraph(`${host} invited you to pair in their tmux session on tmux.me.`),
    paragraph(guest.access === 'ro'
      ? 'You are invited read-only: you can watch but not type.'
      : 'You can type as well as watch: the session is shared read-write.'),
    ...joinBlocks(session),
    paragraph('New to tmux.me? Get set up once:'),
    { kind: 'steps', steps: [
      ['Sign up (or log in) at ', { link: publicUrl }, '.'],
      ['Add your SSH public key there, the same key your ssh uses (for example the contents of ~/.ssh/id_ed25519.pub): it is how the host lets you in.'],
      ['Run the command above.'],
    ] },
    paragraph(`If you do not know ${host}, ignore this mail: no one can join as you without your SSH key.`),
  ];
}

/** One guest's invitation: who invited them, how they may take part, the command, and how to get set up. */
export function invitationMail(session: DeclaredSession, guest: Guest, publicUrl: string): MailContent {
  return renderMail(`${session.host.username} invited you to pair on tmux.me`, blocks(session, guest, publicUrl));
}
