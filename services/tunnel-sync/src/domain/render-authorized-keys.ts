import { portsByUser, renderKeyFile, type KeyEntry, type KeyFileKind, type RenderOptions } from './key-file.js';

export { tunnelHoldCommand, type KeyEntry, type RenderOptions } from './key-file.js';

export interface LeaseEntry {
  leaseId: string;
  userId: string;
  port: number;
  /** Its host logs in as the private tunnel user, whose sshd block binds forwards to loopback only. */
  private: boolean;
}

export interface AuthorizedKeysState {
  keys: Iterable<KeyEntry>;
  /** Only this box's live leases. */
  leases: Iterable<LeaseEntry>;
}

export interface TunnelRenderOptions extends RenderOptions {
  /** Renders the private tunnel user's file (private leases only) rather than the tunnel user's (public ones). */
  private?: boolean;
}

const permitListen = (port: number) => `permitlisten="${port}"`;
const kinds: Record<'public' | 'private', KeyFileKind> = {
  public: {
    header: '# Written by tmux.me tunnel-sync: one line per key of a user with a live lease here. Edits are overwritten.\n',
    tag: 'tmuxme',
    permit: permitListen,
  },
  // The same lines as the tunnel user's: which address the forward binds is the sshd block's choice, not the line's.
  private: {
    header: '# Written by tmux.me tunnel-sync: one line per key of a user with a live private lease here. Edits are overwritten.\n',
    tag: 'tmuxme',
    permit: permitListen,
  },
};

/**
 * A tunnel user's authorized_keys for a state: each key of a user holding a lease of that kind on this
 * box, pinned to that user's leased ports of that kind (docs/architecture.md §5).
 */
export function renderAuthorizedKeys(state: AuthorizedKeysState, { private: wantPrivate = false, ...options }: TunnelRenderOptions = {}): string {
  const leases: LeaseEntry[] = [];
  for (const lease of state.leases) if (lease.private === wantPrivate) leases.push(lease);
  return renderKeyFile(wantPrivate ? kinds.private : kinds.public, state.keys, portsByUser(leases), options);
}
