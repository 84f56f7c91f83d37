import { parseArgs } from 'node:util';
import { openAccount } from '../lib/account.js';
import { ApiError } from '../lib/api-client.js';
import { joinFollowingMoves } from '../lib/follow-moves.js';
import { joinSession } from '../lib/join-session.js';
import type { Command } from './command.js';
import { runCommand, serverOption, serverUsage, UsageError } from './run-command.js';

const options = {
  ...serverOption, 'insecure-accept-new': { type: 'boolean' }, 'via-ssh-port': { type: 'boolean' }, 'dry-run': { type: 'boolean' },
} as const;

export const joinCommand: Command = {
  name: 'join',
  summary: "join a session you are invited to, checking the host's SSH key",
  usage: `Usage: tmuxme join <session id> [--via-ssh-port] [--insecure-accept-new] [--dry-run] [-- <ssh options>]

Runs ssh into the session's tmux, trusting only the host key the host declared for it (your own
known_hosts is neither used nor changed). \`tmuxme sessions\` lists the sessions you can join.
Options after -- go to ssh, e.g. \`tmuxme join <id> -- -i ~/.ssh/work_key\`.

It goes straight to the session's port on the tunnel box when that answers within 1.5 s, and
otherwise through the box's own SSH port, as its jump user \`join\` with your key (the way in for
networks that let only a few ports out, and the only way into a private session); the box's key
is pinned as well. It says on stderr which way it went and why.

When the connection is lost (ssh exits with 255), it reads the session again for up to 30 s: if
the host moved it to another tunnel box (theirs stopped answering), it says so and joins it
there, with the same checks. A session that ended, or did not move, ends the join as ssh did.

  --via-ssh-port      go through the box's SSH port without trying the session's port
  --insecure-accept-new
                      for a session whose host declared no host key: trust whatever key
                      the other end shows (only if you trust the network path to it)
  --dry-run           print the ssh command and the pinned known_hosts lines; run nothing
${serverUsage}`,
  run: (argv) => runCommand(joinCommand, argv, async () => {
    const end = argv.indexOf('--');
    const { values, positionals } = parseArgs({ args: end < 0 ? argv : argv.slice(0, end), options, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('name one session to join (`tmuxme sessions` lists them)');
    return join({
      server: values.server, id: positionals[0]!, sshOptions: end < 0 ? [] : argv.slice(end + 1),
      insecureAcceptNew: values['insecure-accept-new'] ?? false, viaSshPort: values['via-ssh-port'] ?? false, dryRun: values['dry-run'] ?? false,
    });
  }),
};

export interface JoinOptions {
  server?: string;
  id: string;
  /** Extra ssh options, placed before the destination so ssh reads them as options. */
  sshOptions: string[];
  insecureAcceptNew: boolean;
  viaSshPort: boolean;
  dryRun: boolean;
}

export async function join({ server, id, ...options }: JoinOptions): Promise<number> {
  const { api } = await openAccount({ server });
  const session = await api.getSession(id).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) throw new Error(`${error.message} \`tmuxme sessions\` lists the ones you can join.`);
    throw error;
  });
  return joinFollowingMoves(session, {
    fetchSession: () => api.getSession(id),
    runJoin: (current) => joinSession(current, options),
    say: (line) => console.error(line),
  });
}
