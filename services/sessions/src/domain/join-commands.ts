/** Where guests connect: the leased port on the tunnel box, which leads to the host's own sshd. */
interface Endpoint {
  tunnelHost: string;
  port: number;
}

/** The same, reached through the box's own sshd (its port `tunnelPort`) and its jump user. */
interface JumpEndpoint extends Endpoint {
  tunnelPort: number;
}

/** The jump user's account on every tunnel box: its key lines open channels to invited sessions only. */
export const jumpUser = 'join';

/**
 * The host's forward as the jump user's key lines name it. permitopen does no name lookup, so this
 * literal, not `localhost`, is what a guest must ask the box for.
 */
const forwardHost = '127.0.0.1';

export function joinCommand({ tunnelHost, port }: Endpoint): string {
  return `ssh -p ${port} tmuxme@${tunnelHost}`;
}

/**
 * The same, trusting only the host key the host declared: no known_hosts file is read or written, and
 * `%H` is the name ssh looks up (`[host]:port`), so the echoed line is the only key that can match.
 */
export function pinnedJoinCommand({ tunnelHost, port }: Endpoint, hostKeyLine: string): string {
  return `ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KnownHostsCommand="/bin/echo %H ${hostKeyLine}" -p ${port} tmuxme@${tunnelHost}`;
}

/**
 * Through the box's SSH port only, for networks that let nothing else out. Every session's host key
 * sits behind `127.0.0.1:<port>` of some box, so the alias files it under the box's name and port instead,
 * where sessions of different boxes (and a later session on the same port) cannot collide.
 */
export function jumpJoinCommand({ tunnelHost, tunnelPort, port }: JumpEndpoint): string {
  const jumpHost = tunnelPort === 22 ? `${jumpUser}@${tunnelHost}` : `${jumpUser}@${tunnelHost}:${tunnelPort}`;
  return `ssh -J ${jumpHost} -o HostKeyAlias=${tunnelHost}:${port} -p ${port} tmuxme@${forwardHost}`;
}

/**
 * The jump command with both hops pinned, asking nothing and writing nothing. `-J` takes no options for
 * the jump hop, so the hop is spelt out as a ProxyCommand; ssh expands `%` in it before running it
 * through the shell, so `%%H` reaches the inner ssh as its own `%H` (`[box]:port`).
 */
export function pinnedJumpJoinCommand({ tunnelHost, tunnelPort, port }: JumpEndpoint, hostKeyLine: string, boxKeyLine: string): string {
  const jumpHop = `ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KnownHostsCommand='/bin/echo %%H ${boxKeyLine}' -p ${tunnelPort} -W %h:%p ${jumpUser}@${tunnelHost}`;
  return `ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KnownHostsCommand="/bin/echo %H ${hostKeyLine}" -o ProxyCommand="${jumpHop}" -p ${port} tmuxme@${forwardHost}`;
}

export interface SessionEndpoint extends JumpEndpoint {
  private: boolean;
  /** The host's declared key (`type base64`), if any. */
  hostKey?: string | null;
  /** The box's key (`type base64`); without it the jump path cannot be pinned. */
  tunnelHostKey?: string | null;
}

export interface JoinCommands {
  joinCommand: string;
  jumpJoinCommand: string;
  pinnedJoinCommand?: string;
  pinnedJumpJoinCommand?: string;
}

/**
 * Every command a session offers. A private session's port answers on the box's loopback only, so its
 * direct commands would lead nowhere: they are the jump ones there.
 */
export function joinCommands(session: SessionEndpoint): JoinCommands {
  const jump = jumpJoinCommand(session);
  const pinnedJump = session.hostKey && session.tunnelHostKey ? pinnedJumpJoinCommand(session, session.hostKey, session.tunnelHostKey) : undefined;
  const pinned = session.private ? pinnedJump : session.hostKey ? pinnedJoinCommand(session, session.hostKey) : undefined;
  return {
    joinCommand: session.private ? jump : joinCommand(session),
    jumpJoinCommand: jump,
    ...(pinned ? { pinnedJoinCommand: pinned } : {}),
    ...(pinnedJump ? { pinnedJumpJoinCommand: pinnedJump } : {}),
  };
}
