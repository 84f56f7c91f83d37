import type { PairingSession } from './api-client.js';
import type { JoinRoute } from './join-path.js';
import type { PinnedHost } from './known-hosts.js';

/** The jump path's destination: the literal string the box's permitopen names (it does no name lookup). */
export const jumpDestination = '127.0.0.1';
/** The box's account for guests on the jump path. */
export const jumpUser = 'join';

type Where = Pick<PairingSession, 'tunnelHost' | 'tunnelPort' | 'port' | 'tunnelHostKey'>;

export interface JoinSshOptions {
  session: Where;
  route: JoinRoute;
  /** The host's declared key; undefined: the other end's key is accepted (and kept in knownHostsFile only). */
  hostKey?: string;
  /** The temporary known_hosts holding pinnedHosts(); both hops read it. */
  knownHostsFile: string;
  /** The guest's own ssh options (after `--`), for both hops: the same key logs in to the box and the host. */
  sshOptions: readonly string[];
}

/** What the join's known_hosts must hold: the host's key where ssh will look it up, and the box's for the jump hop. */
export function pinnedHosts(session: Where, route: JoinRoute, hostKey: string | undefined): PinnedHost[] {
  if (route === 'port') return hostKey ? [{ host: session.tunnelHost, port: session.port, publicKey: hostKey }] : [];
  if (!session.tunnelHostKey) {
    throw new Error(`the server gave no host key for its box ${session.tunnelHost}, so the jump hop cannot be checked: `
      + 'join straight to the session\'s port (without --via-ssh-port), or ask the server\'s operator to upgrade.');
  }
  return [
    { host: session.tunnelHost, port: session.tunnelPort, publicKey: session.tunnelHostKey },
    ...(hostKey ? [{ host: jumpDestination, port: session.port, publicKey: hostKey }] : []),
  ];
}

/**
 * ssh's arguments for the join. The jump path is ProxyCommand rather than -J, since -J cannot give the
 * hop options: the box is pinned there exactly as the host is here, from the same temporary file, and
 * the box only opens the channel to the host's forward; inside it ssh runs end to end with the host.
 */
export function joinSshArgs({ session, route, hostKey, knownHostsFile, sshOptions }: JoinSshOptions): string[] {
  const pinning = (strict: 'yes' | 'accept-new') => [
    '-o', `UserKnownHostsFile=${knownHostsFile}`,
    // A key in the system-wide file would be trusted as well as ours; nothing but the pin may be.
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `StrictHostKeyChecking=${strict}`,
  ];
  const host = pinning(hostKey ? 'yes' : 'accept-new');
  if (route === 'port') return [...host, '-p', String(session.port), ...sshOptions, `tmuxme@${session.tunnelHost}`];
  // The box is pinned even when the host is not: the lease's key for it is always known.
  // ssh hands ProxyCommand to /bin/sh after expanding its %-tokens: each word quoted, its % kept literal, but our %h:%p.
  const word = (arg: string) => shellQuote(arg).replace(/%/g, '%%');
  const hop = [...pinning('yes'), ...sshOptions].map(word);
  const proxyCommand = ['ssh', ...hop, '-W', '%h:%p', '-p', word(String(session.tunnelPort)), word(`${jumpUser}@${session.tunnelHost}`)].join(' ');
  return [...host, '-o', `ProxyCommand=${proxyCommand}`, '-p', String(session.port), ...sshOptions, `tmuxme@${jumpDestination}`];
}

/** One word for /bin/sh, quoted only where it needs to be (so a printed command stays readable). */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
