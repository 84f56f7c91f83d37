import { readFile } from 'node:fs/promises';
import { addGuestKeys, newRunMarker, removeAbandonedGuestKeys, removeGuestKeys } from '../lib/guest-authorized-keys.js';
import { ensureLocalUser, findLocalUser, type LocalUser } from '../lib/local-user.js';
import { openReverseTunnel } from '../lib/reverse-tunnel.js';
import { removeDeadSessionDirectories, TmuxSession } from '../lib/tmux-session.js';
import type { HostBackend } from './host-backend.js';

export interface SeedBackendOptions {
  /** This machine's sshd, where the box's port leads. */
  sshPort: number;
  /** The private key the tunnel box knows us by; ssh's own choice when absent. */
  identity?: string;
  /** More ssh arguments for the tunnel (tests pass `-F none`). */
  sshArgs?: string[];
  /** The sshd host key guests will be shown (docs/architecture.md §6: the system's sshd). */
  hostKeyFile?: string;
  socketRoot?: string;
}

/**
 * The seed's way (docs/architecture.md §6): guests arrive at this machine's sshd as the local `tmuxme`
 * user, whose authorized_keys sends each of them into our tmux; `ssh -R` brings them from the box.
 */
export async function createSeedBackend(options: SeedBackendOptions): Promise<HostBackend> {
  const marker = newRunMarker();
  let guestUser: LocalUser | undefined;
  let tmux: TmuxSession | undefined;
  const explained = (explain: (why: string) => void) => (why: string) => explain(`${why}: asking for root through sudo`);
  const required = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not set up yet`);
    return value;
  };

  return {
    async ensureGuestUser(explain) {
      guestUser = await ensureLocalUser({ explain: explained(explain) });
      tmux = await TmuxSession.prepare({ guests: guestUser, explain: explained(explain), socketRoot: options.socketRoot, cwd: process.cwd() });
      return `${guestUser.name} (uid ${guestUser.uid})`;
    },
    async admitGuests(guests) {
      const session = required(tmux, 'tmux');
      await addGuestKeys({
        user: required(guestUser, 'the guests\' user'),
        marker,
        tmuxPath: session.tmuxPath,
        socket: session.socket,
        guests: guests.map(({ username, access, keys }) => ({ username, readOnly: access === 'ro', publicKeys: keys.map((k) => k.key) })),
      });
    },
    async dismissGuests() {
      if (guestUser) await removeGuestKeys({ user: guestUser, marker });
    },
    async openTunnel(lease, { readyTimeoutMs } = {}) {
      const tunnel = await openReverseTunnel({ lease, localPort: options.sshPort, identityFile: options.identity, sshArgs: options.sshArgs, readyTimeoutMs });
      // ssh would outlive a crash of ours; the next run ends it from this record.
      await required(tmux, 'tmux').recordCompanion(tunnel.pid);
      return tunnel;
    },
    startTmux: () => required(tmux, 'tmux').start(),
    tmuxRunning: () => required(tmux, 'tmux').isRunning(),
    async connectedGuests() {
      const clients = await required(tmux, 'tmux').listClients();
      // The host's own terminal is not a guest: guests all arrive as the guests' user.
      return clients.filter((client) => client.uid === guestUser?.uid)
        .map((client) => ({ username: client.guest, readOnly: client.readOnly, since: client.createdAt }));
    },
    async stopTmux() {
      await tmux?.kill();
    },
    async keepTmux() {
      const session = required(tmux, 'tmux');
      return (await session.keep()) ? session.attachCommand() : undefined;
    },
    attachCommand: () => required(tmux, 'tmux').attachCommand(),
    async hostKey() {
      const file = options.hostKeyFile ?? '/etc/ssh/ssh_host_ed25519_key.pub';
      const [type, blob] = (await readFile(file, 'utf8').catch(() => '')).trim().split(/\s+/);
      return type && blob ? `${type} ${blob}` : undefined;
    },
    async cleanUpDeadRuns() {
      const user = await findLocalUser();
      const keys = user ? await removeAbandonedGuestKeys(user) : [];
      return [...keys, ...await removeDeadSessionDirectories(options.socketRoot)];
    },
  };
}
