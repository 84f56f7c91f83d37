import { readFile } from 'node:fs/promises';

/**
 * The command a guest's key forces (docs/architecture.md §6), and how the host tells
 * guests apart afterwards. All guests are the same unix user, so tmux's own
 * client_uid/client_user cannot say who is who. The command therefore ends in
 * `; display-message 'tmux.me: joined as alice'`: tmux runs it right after the
 * attach (it greets the guest, read-only clients included), and the tmux
 * client keeps it in its argv, which /proc/<client_pid>/cmdline shows to any
 * local user. The guest cannot choose that argv: sshd forces the command.
 */

/** tmux.me usernames (the accounts service's rule): nothing a shell or tmux would interpret. */
const guestUsernamePattern = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/;

// The command sits inside command="…" and is run by /bin/sh -c: a path made
// only of these characters needs no quoting in either.
const shellSafePath = /^\/[A-Za-z0-9._/+-]*$/;

export interface GuestCommandOptions {
  /** The tmux binary the host's server runs: a different version's client may not speak to it. */
  tmuxPath: string;
  socket: string;
  username: string;
  readOnly: boolean;
}

export function guestAttachCommand({ tmuxPath, socket, username, readOnly }: GuestCommandOptions): string {
  return guestArgv({ tmuxPath, socket, username, readOnly })
    .map((word) => (word === ';' ? '\\;' : word.includes(' ') ? `'${word}'` : word))
    .join(' ');
}

/** The tmux client's argv once the shell has run the command above. */
function guestArgv({ tmuxPath, socket, username, readOnly }: GuestCommandOptions): string[] {
  for (const [what, path] of [['tmux path', tmuxPath], ['socket path', socket]] as const) {
    if (!shellSafePath.test(path)) throw new Error(`the ${what} ${JSON.stringify(path)} has characters a forced command cannot carry`);
  }
  if (!guestUsernamePattern.test(username)) throw new Error(`not a tmux.me username: ${JSON.stringify(username)}`);
  return [tmuxPath, '-S', socket, 'attach-session', ...(readOnly ? ['-r'] : []), ';', 'display-message', greeting(username, readOnly)];
}

/** What a guest sees on arrival, in either hosting mode. */
export function greeting(username: string, readOnly: boolean): string {
  return `tmux.me: joined as ${username}${readOnly ? ' (read-only)' : ''}`;
}

/**
 * The guest a tmux client was started for, from its argv; undefined for any
 * other client (the host's own, or one started by hand).
 */
export function guestFromArgv(argv: readonly string[], expected: { tmuxPath: string; socket: string }): string | undefined {
  const match = /^tmux\.me: joined as ([a-z0-9-]+)( \(read-only\))?$/.exec(argv.at(-1) ?? '');
  if (!match) return undefined;
  const username = match[1]!;
  const readOnly = match[2] !== undefined;
  if (!guestUsernamePattern.test(username)) return undefined;
  const wanted = guestArgv({ ...expected, username, readOnly });
  return wanted.length === argv.length && wanted.every((word, index) => word === argv[index]) ? username : undefined;
}

/**
 * Reads a process's argv from /proc. Undefined when it is gone or hidden
 * (/proc mounted with hidepid, or not Linux).
 */
export async function processArgv(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}
