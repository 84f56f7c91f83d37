import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import type { PairingSession } from './api-client.js';
import { sshFingerprint } from './ssh-fingerprint.js';
import { chooseJoinPath, type JoinPath } from './join-path.js';
import { joinSshArgs, pinnedHosts, shellQuote } from './join-ssh.js';
import { writeTempKnownHosts, type TempKnownHosts } from './known-hosts.js';

export interface JoinSessionOptions {
  /** Extra ssh options, placed before the destination so ssh reads them as options (on both hops of the jump path). */
  sshOptions: readonly string[];
  insecureAcceptNew: boolean;
  /** Straight to the box's SSH port, without trying the session's own port. */
  viaSshPort: boolean;
  /** How long the session's port gets to answer (default 1.5 s). */
  answerWithinMs?: number;
  /** Where "which way, and why" and warnings go; default stderr. */
  say?: (line: string) => void;
}

export interface PreparedJoin {
  path: JoinPath;
  /** ssh's arguments, the command not included. */
  args: string[];
  knownHosts: TempKnownHosts;
}

/**
 * Everything but running ssh: the host key checked, the way in chosen (and said), and a known_hosts of
 * the join's own. Unpinned too: ports go to other hosts' sessions later, and a key remembered in
 * ~/.ssh/known_hosts would then look like an attack to the next guest of that port. Remove `knownHosts` after.
 */
export async function prepareJoin(session: PairingSession, options: JoinSessionOptions): Promise<PreparedJoin> {
  const say = options.say ?? ((line) => console.error(line));
  const hostKey = declaredHostKey(session);
  if (!hostKey && !options.insecureAcceptNew) {
    throw new Error(`${session.host.username} declared no SSH host key for session ${session.id}, so tmuxme cannot check that ssh reaches their `
      + 'machine and not an impostor. Ask them to restart the session with a current tmuxme, or, if you trust the network path, '
      + 'run again with --insecure-accept-new.');
  }
  if (!hostKey) say('Warning: no host key was declared; ssh will trust whichever key the other end shows.');
  const path = await chooseJoinPath(session, { viaSshPort: options.viaSshPort, answerWithinMs: options.answerWithinMs });
  say(path.message);
  const knownHosts = await writeTempKnownHosts(pinnedHosts(session, path.route, hostKey));
  const args = joinSshArgs({ session, route: path.route, hostKey, knownHostsFile: knownHosts.file, sshOptions: options.sshOptions });
  return { path, args, knownHosts };
}

/** `tmuxme join`: runs ssh into the session (or, with dryRun, prints what it would run); resolves to ssh's exit status. */
export async function joinSession(session: PairingSession, options: JoinSessionOptions & { dryRun: boolean }): Promise<number> {
  const { args, knownHosts } = await prepareJoin(session, options);
  try {
    if (!options.dryRun) return await runSsh(args);
    const pinned = (await readFile(knownHosts.file, 'utf8')).trim();
    console.log(`known_hosts: ${pinned ? pinned.split('\n').join('\n             ') : '(empty: ssh will trust the first key it is shown)'}`);
    console.log(['ssh', ...args].map(shellQuote).join(' '));
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
