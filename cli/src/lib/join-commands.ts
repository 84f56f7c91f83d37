import type { PairingSession } from './api-client.js';

/** Why a private session offers only the jump command: its port answers on the box alone. */
export const privateReason = "private: reachable only through the relay's SSH port, for invited guests";

export type SessionJoinCommands = Pick<PairingSession, 'private' | 'joinCommand' | 'pinnedJoinCommand' | 'jumpJoinCommand' | 'pinnedJumpJoinCommand'>;

/** The ssh commands to show a guest, in the order to show them. */
export interface JoinChoices {
  /** The one to use first: the leased port (the seed's command), or the jump path for a private session. */
  command: string;
  /** The same with the host key pinned, when the host declared one. */
  pinned?: string;
  /** Beside a public session's direct command: the way in for networks that let only the box's SSH port out. */
  viaSshPort?: { command: string; pinned?: string };
  /** Set for a private session: why no direct command is shown. */
  privateReason?: string;
}

/** What the host screen, the --no-tui lines and `tmuxme sessions` offer, so all three say the same. */
export function joinChoices(session: SessionJoinCommands): JoinChoices {
  if (session.private) return { command: session.jumpJoinCommand, pinned: session.pinnedJumpJoinCommand, privateReason };
  return {
    command: session.joinCommand,
    pinned: session.pinnedJoinCommand,
    // A server from before the jump path sends none.
    ...(session.jumpJoinCommand ? { viaSshPort: { command: session.jumpJoinCommand, pinned: session.pinnedJumpJoinCommand } } : {}),
  };
}
