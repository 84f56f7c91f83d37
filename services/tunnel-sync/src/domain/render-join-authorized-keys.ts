import { portsByUser, renderKeyFile, type KeyFileKind, type RenderOptions } from './key-file.js';
import type { AuthorizedKeysState } from './render-authorized-keys.js';

export interface SessionEntry {
  sessionId: string;
  hostUserId: string;
  /** The leased port on this box that the host forwards. */
  port: number;
  guestUserIds: readonly string[];
}

export interface JoinAuthorizedKeysState extends AuthorizedKeysState {
  /** Only this box's live sessions. */
  sessions: Iterable<SessionEntry>;
}

const join: KeyFileKind = {
  header: '# Written by tmux.me tunnel-sync: one line per key of a guest of a live session here, for the join user. Edits are overwritten.\n',
  tag: 'tmuxme-join',
  // A literal address: permitopen does no name lookup, so this is exactly what a join command names.
  permit: (port) => `permitopen="127.0.0.1:${port}"`,
};

/**
 * The join user's authorized_keys: each key of each guest of a session here, opening the way to that
 * session's port and no other. A session counts only while its host holds a live lease on its port:
 * a SessionEnded that comes late, or never, must not open a port released and leased again to guests
 * of the session that had it before.
 */
export function renderJoinAuthorizedKeys(state: JoinAuthorizedKeysState, options: RenderOptions = {}): string {
  const leased = portsByUser(state.leases);
  const grants: { userId: string; port: number }[] = [];
  for (const session of state.sessions) {
    if (!leased.get(session.hostUserId)?.has(session.port)) continue;
    for (const userId of session.guestUserIds) grants.push({ userId, port: session.port });
  }
  return renderKeyFile(join, state.keys, portsByUser(grants), options);
}
