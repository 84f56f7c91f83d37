import type { EventData, SessionDeclared } from '@tmuxme/events';
import { command, paragraph, type Block } from './mail-blocks.js';

/** What a guest needs to join a session where it is now: SessionDeclared's, and SessionMoved's with its new box's SSH port. */
export type JoinCommands = Pick<EventData<typeof SessionDeclared>,
  'host' | 'private' | 'tunnelPort' | 'joinCommand' | 'jumpJoinCommand' | 'hostKeyFingerprint' | 'pinnedJoinCommand' | 'pinnedJumpJoinCommand'>;

/** A command, the fingerprint to check the host by, and the variant that checks it for the guest. */
function commandAndPin(plain: string, pinned: string | undefined, fingerprint: string | undefined, pinnedIntro: string): Block[] {
  return [
    command(plain),
    ...(fingerprint ? [paragraph(`The host's SSH key fingerprint is ${fingerprint}; ssh shows it the first time you connect, and it must match.`)] : []),
    ...(pinned ? [paragraph(pinnedIntro), command(pinned)] : []),
  ];
}

/**
 * The seed's direct commands first; the jump path after them, or alone where the port answers on the relay only.
 * `again` for a guest who may have joined before, as after a move.
 */
export function joinBlocks(session: JoinCommands, { again = false } = {}): Block[] {
  const { host: { username: host }, hostKeyFingerprint: fingerprint, tunnelPort } = session;
  const join = `Join${again ? ' again' : ''} from a terminal with:`;
  if (session.private) {
    return [
      paragraph(`${host} made this session private: its port is reachable only through the relay's SSH port (${tunnelPort}), `
        + `and only for the guests ${host} invited. ${join}`),
      ...commandAndPin(session.jumpJoinCommand, session.pinnedJumpJoinCommand, fingerprint,
        "Or let ssh check the relay's and the host's keys for you, and refuse any others, with:"),
    ];
  }
  return [
    paragraph(join),
    ...commandAndPin(session.joinCommand, session.pinnedJoinCommand, fingerprint, 'Or let ssh check the key for you, and refuse any other, with:'),
    paragraph(`If your network lets only SSH's port out, join through the relay's SSH port (${tunnelPort}) instead:`),
    command(session.pinnedJumpJoinCommand ?? session.jumpJoinCommand),
  ];
}
