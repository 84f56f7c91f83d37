import { openEmbeddedTunnel } from '../lib/embedded-tunnel.js';
import { GuestSshServer, type GuestSshEvent } from '../lib/guest-ssh-server.js';
import { loadHostKey, type HostKey } from '../lib/host-key.js';
import { privateSocketRoot, removeDeadSessionDirectories, TmuxSession } from '../lib/tmux-session.js';
import type { HostBackend } from './host-backend.js';

export interface EmbeddedBackendOptions {
  /** The private key the tunnel box knows us by; else ssh-agent and ~/.ssh's default keys. */
  identity?: string;
  /** Default $XDG_CONFIG_HOME/tmuxme/host_ed25519. */
  hostKeyFile?: string;
  /** Default privateSocketRoot(). */
  socketRoot?: string;
  /** Where SSH_AUTH_SOCK and HOME come from, for the tunnel's key. */
  env?: Record<string, string | undefined>;
  /** What the host should hear about: a guest refused, a key nobody can log in with here. */
  notice?: (message: string) => void;
}

/**
 * Issue 8's way, needing neither root nor an sshd: the tunnel is ssh2 in this process, and
 * every connection it brings is served by the guests' SSH server here, whose pty runs the
 * guest's tmux client as the host user. So tmux stays private to the host: no guests' account,
 * no group, no access list.
 */
export async function createEmbeddedBackend(options: EmbeddedBackendOptions = {}): Promise<HostBackend> {
  const socketRoot = options.socketRoot ?? privateSocketRoot();
  const notice = options.notice ?? (() => {});
  let hostKey: HostKey | undefined;
  let tmux: TmuxSession | undefined;
  let server: GuestSshServer | undefined;
  let tmuxWatch: ReturnType<TmuxSession['watchEnd']> | undefined;
  let guestsChanged = () => {};
  const required = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not set up yet`);
    return value;
  };

  return {
    async ensureGuestUser() {
      hostKey = await loadHostKey(options.hostKeyFile);
      tmux = await TmuxSession.prepare({ socketRoot, cwd: process.cwd() });
      return 'none needed: tmuxme serves the guests\' SSH itself';
    },
    async admitGuests(guests) {
      const session = required(tmux, 'tmux');
      server = new GuestSshServer({
        hostKey: required(hostKey, 'the host key').privateKey,
        tmuxPath: session.tmuxPath,
        socket: session.socket,
        guests: guests.map(({ username, access, keys }) => ({ username, access, publicKeys: keys.map((key) => key.key) })),
        onEvent: (event) => (event.type === 'refused' ? notice(refusalNotice(event)) : guestsChanged()),
      });
      for (const { username, key, reason } of server.unusableKeys) notice(`${username}'s key ${key.slice(0, 40)}… cannot log in here: ${reason}`);
    },
    async dismissGuests() {
      await server?.close();
    },
    async openTunnel(lease, { readyTimeoutMs } = {}) {
      const guests = required(server, 'the guests\' SSH server');
      return openEmbeddedTunnel({ lease, identityFile: options.identity, env: options.env, readyTimeoutMs, onConnection: (stream) => guests.serve(stream) });
    },
    async startTmux() {
      const session = required(tmux, 'tmux');
      await session.start();
      tmuxWatch = session.watchEnd();
    },
    tmuxRunning: () => required(tmux, 'tmux').isRunning(),
    // The guests' list comes from this process, so polling it would never notice tmux is gone.
    tmuxEnded: () => required(tmuxWatch, 'tmux\'s watch').ended,
    async connectedGuests() {
      return (server?.connections() ?? []).map(({ id, username, readOnly, since }) => ({ connectionId: id, username, readOnly, since }));
    },
    watchGuests(changed) {
      guestsChanged = changed;
    },
    async disconnectGuest(connectionId) {
      return server?.disconnect(connectionId) ?? false;
    },
    async stopTmux() {
      tmuxWatch?.stop();
      await tmux?.kill();
    },
    async keepTmux() {
      tmuxWatch?.stop();
      const session = required(tmux, 'tmux');
      return (await session.keep()) ? session.attachCommand() : undefined;
    },
    attachCommand: () => required(tmux, 'tmux').attachCommand(),
    async hostKey() {
      return required(hostKey, 'the host key').publicKey;
    },
    cleanUpDeadRuns: () => removeDeadSessionDirectories(socketRoot),
  };
}

function refusalNotice(event: Extract<GuestSshEvent, { type: 'refused' }>): string {
  return `Refused ${event.username ? `${event.username}'s` : 'a'} connection (${event.refusal}): ${event.detail}`;
}
