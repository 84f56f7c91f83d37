import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { openAccount } from '../lib/account.js';
import { ApiError, type PairingSession } from '../lib/api-client.js';
import { sshFingerprint } from '../lib/host-key.js';
import { writeTempKnownHosts } from '../lib/known-hosts.js';
import type { Command } from './command.js';
import { runCommand, serverOption, serverUsage, UsageError } from './run-command.js';

const options = { ...serverOption, 'insecure-accept-new': { type: 'boolean' }, 'dry-run': { type: 'boolean' } } as const;

export const joinCommand: Command = {
  name: 'join',
  summary: "join a session you are invited to, checking the host's SSH key",
  usage: `Usage: tmuxme join <session id> [--insecure-accept-new] [--dry-run] [-- <ssh options>]

Runs ssh into the session's tmux, trusting only the host key the host declared for it (your own
known_hosts is neither used nor changed). \`tmuxme sessions\` lists the sessions you can join.
Options after -- go to ssh, e.g. \`tmuxme join <id> -- -i ~/.ssh/work_key\`.

  --insecure-accept-new
                      for a session whose host declared no host key: trust whatever key
                      the other end shows (only if you trust the network path to it)
  --dry-run           print the ssh command and the pinned known_hosts line; run nothing
${serverUsage}`,
  run: (argv) => runCommand(joinCommand, argv, async () => {
    const end = argv.indexOf('--');
    const { values, positionals } = parseArgs({ args: end < 0 ? argv : argv.slice(0, end), options, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('name one session to join (`tmuxme sessions` lists them)');
    return join({
      server: values.server, id: positionals[0]!, sshOptions: end < 0 ? [] : argv.slice(end + 1),
      insecureAcceptNew: values['insecure-accept-new'] ?? false, dryRun: values['dry-run'] ?? false,
    });
  }),
};

export interface JoinOptions {
  server?: string;
  id: string;
  /** Extra ssh options, placed before the destination so ssh reads them as options. */
  sshOptions: string[];
  insecureAcceptNew: boolean;
  dryRun: boolean;
}

export async function join({ server, id, sshOptions, insecureAcceptNew, dryRun }: JoinOptions): Promise<number> {
  const { api } = await openAccount({ server });
  const session = await api.getSession(id).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) throw new Error(`${error.message} \`tmuxme sessions\` lists the ones you can join.`);
    throw error;
  });
  const hostKey = declaredHostKey(session);
  if (!hostKey && !insecureAcceptNew) {
    throw new Error(`${session.host.username} declared no SSH host key for session ${session.id}, so tmuxme cannot check that ssh reaches their `
      + 'machine and not an impostor. Ask them to restart the session with a current tmuxme, or, if you trust the network path, '
      + 'run again with --insecure-accept-new.');
  }
  if (!hostKey) console.error('Warning: no host key was declared; ssh will trust whichever key the other end shows.');
  // Unpinned too, the join gets a known_hosts of its own: ports go to other hosts' sessions later, and a
  // key remembered in ~/.ssh/known_hosts would then look like an attack to the next guest of that port.
  const knownHosts = await writeTempKnownHosts(hostKey ? [{ host: session.tunnelHost, port: session.port, publicKey: hostKey }] : []);
  try {
    const sshArgs = [
      '-o', `UserKnownHostsFile=${knownHosts.file}`,
      // A key in the system-wide file would be trusted as well as ours; nothing but the pin may be.
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', `StrictHostKeyChecking=${hostKey ? 'yes' : 'accept-new'}`,
      '-p', String(session.port), ...sshOptions, `tmuxme@${session.tunnelHost}`,
    ];
    if (!dryRun) return await runSsh(sshArgs);
    const pinned = (await readFile(knownHosts.file, 'utf8')).trim();
    console.log(`known_hosts: ${pinned || '(empty: ssh will trust the first key it is shown)'}`);
    console.log(['ssh', ...sshArgs].map(shellQuote).join(' '));
    return 0;
  } finally {
    await knownHosts.remove();
  }
}

/** The host's declared key, believed only if it hashes to the fingerprint the server shows beside it. */
function declaredHostKey(session: PairingSession): string | undefined {
  if (!session.hostKey) return undefined;
  if (sshFingerprint(session.hostKey) !== session.hostKeyFingerprint) {
    throw new Error(`The server declared host key ${session.hostKeyFingerprint} for session ${session.id} with a key that does not match it, `
      + 'so the host cannot be checked; not joining. Tell the host.');
  }
  return session.hostKey;
}

function runSsh(args: string[]): Promise<number> {
  // Ctrl-C is for ssh and the tmux behind it; this process stays to remove the known_hosts file afterwards.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  return new Promise<number>((resolve, reject) => {
    const ssh = spawn('ssh', args, { stdio: 'inherit' });
    ssh.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new Error('ssh is not installed (or not on PATH): install the OpenSSH client, e.g. `apt-get install openssh-client`.') : error);
    });
    ssh.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  }).finally(() => process.off('SIGINT', ignore));
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
