/** Where guests connect: the leased port on the tunnel box, which leads to the host's own sshd. */
interface Endpoint {
  tunnelHost: string;
  port: number;
}

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
