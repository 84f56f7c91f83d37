import { openEmbeddedTunnel } from '../lib/embedded-tunnel.js';
import { GuestSshServer, type GuestSshEvent, type RequestRefusal } from '../lib/guest-ssh-server.js';
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
  /**
   * What the host should hear about: a connection refused, a guest's request refused, a key nobody can log in with here.
   * A quiet one is for the run log and the `--no-tui` lines, not the screen.
   */
  notice?: (message: string, options?: { quiet?: boolean }) => void;
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
        onEvent: (event) => {
          if (event.type === 'refused') notice(connectionRefusalNotice(event));
          // OpenSSH clients send variables unasked (`SendEnv`), and the guest is let in all the same: nothing for the host to do.
          else if (event.type === 'request-refused') notice(requestRefusalNotice(event), { quiet: event.refusal === 'env' });
          else guestsChanged();
        },
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

function connectionRefusalNotice(event: Extract<GuestSshEvent, { type: 'refused' }>): string {
  // A flood is the one a logged-in guest meets: they were let in, then dropped.
  const verb = event.refusal === 'request-flood' ? 'Dropped' : 'Refused';
  return `${verb} ${event.username ? `${event.username}'s` : 'a'} connection (${event.refusal}): ${event.detail}`;
}

const requestNames: Record<RequestRefusal, string> = {
  'no-pty': 'shell without a terminal',
  exec: 'exec',
  subsystem: 'subsystem',
  'x11-forwarding': 'X11 forwarding',
  'agent-forwarding': 'agent forwarding',
  'port-forwarding': 'port forwarding',
  env: 'env',
  'too-many-sessions': 'extra session',
};

/** Says the request was refused, not the guest: they stay connected (and attached, as a rule). */
function requestRefusalNotice(event: Extract<GuestSshEvent, { type: 'request-refused' }>): string {
  return `Refused ${event.username}'s ${requestNames[event.refusal]} request: ${event.detail}`;
}
