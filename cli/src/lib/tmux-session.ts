import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, chown, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { isProcessAlive } from './file-lock.js';
import { guestFromArgv, processArgv } from './guest-command.js';
import type { LocalUser } from './local-user.js';
import { runAsRoot, type ExplainPrivilege } from './privileged.js';

const run = promisify(execFile);

/**
 * The host's tmux server for one pairing session (docs/architecture.md §6), on its
 * own socket: /tmp/tmuxme-<uid>/<run>/socket. Guests (the `tmuxme` user) reach
 * it through the group: tmux 3.3 makes the socket 0600 and keeps whatever rw
 * bits it is given later, so it is opened to 0660; the directories are
 * <host>:tmuxme 2750, and the setgid bit makes everything created below the
 * root inherit the group, even for a host who is not in it. tmux's own
 * access list (`server-access -a tmuxme`) is the second lock.
 *
 * Without guests (tmuxme serving their SSH itself, issue 8) every tmux client runs as
 * the host, so the session is private: directories 0700, no group, no access list.
 */

export interface TmuxClient {
  pid: number;
  /** e.g. /dev/pts/3 */
  tty: string;
  readOnly: boolean;
  createdAt: Date;
  activityAt: Date;
  uid: number;
  user: string;
  /** The tmux.me username the client was started for (see guest-command.ts); undefined for the host's own. */
  guest?: string;
}

interface GuestAccountOptions {
  /** The account guests arrive as. */
  guests: Pick<LocalUser, 'name' | 'uid' | 'gid'>;
  /** Said before sudo, which only a host who is not root needs, once per boot, to give the socket root its group. */
  explain: ExplainPrivilege;
}

export type TmuxSessionOptions = (GuestAccountOptions | { guests?: undefined; explain?: undefined }) & {
  /** Default /tmp/tmuxme-<uid> (privateSocketRoot() without guests): with guests, every directory above it must let their user through. */
  socketRoot?: string;
  sessionName?: string;
  /** Where the host's first shell starts. */
  cwd?: string;
};

const socketName = 'socket';
const companionFile = 'companion.pid';
// Present in the directory of a session the host chose to keep (--keep-tmux): no later run ends its server.
const keptFile = 'kept';
// Before watching again a session whose watch was detached: not a busy loop if tmux keeps refusing it.
const reattachDelayMs = 200;

export function defaultSocketRoot(uid: number = process.getuid?.() ?? 0): string {
  return `/tmp/tmuxme-${uid}`;
}

/** For a session no other account reaches: the user's runtime directory when there is one. */
export function privateSocketRoot(env: Record<string, string | undefined> = process.env): string {
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'tmuxme') : `${defaultSocketRoot()}-private`;
}

export class TmuxSession {
  readonly socket: string;

  private constructor(
    readonly tmuxPath: string,
    /** This session's own directory, removed by kill(). */
    readonly directory: string,
    private readonly guests: GuestAccountOptions['guests'] | undefined,
    private readonly sessionName: string,
    private readonly cwd: string | undefined,
  ) {
    this.socket = join(directory, socketName);
  }

  /**
   * Finds tmux (3.3 or newer) and makes the socket's directory, so the socket
   * path is known (guests' keys name it) before the server starts.
   */
  static async prepare(options: TmuxSessionOptions): Promise<TmuxSession> {
    const { guests, socketRoot = guests ? defaultSocketRoot() : privateSocketRoot(), sessionName = 'tmuxme', cwd } = options;
    const tmuxPath = await findTmux();
    if (!guests) {
      await ensurePrivateSocketRoot(socketRoot);
      const directory = join(socketRoot, `${process.pid}-${randomBytes(4).toString('hex')}`);
      await mkdir(directory, { mode: 0o700 });
      return new TmuxSession(tmuxPath, directory, undefined, sessionName, cwd);
    }
    await ensureSocketRoot(socketRoot, guests.gid, options.explain);
    const directory = join(socketRoot, `${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(directory, { mode: 0o750 });
    const info = await lstat(directory);
    if (info.gid !== guests.gid || (info.mode & 0o2000) === 0) {
      await rm(directory, { recursive: true, force: true });
      throw new Error(`${directory} did not inherit the group ${guests.name} from ${socketRoot} (a filesystem without setgid directories?)`);
    }
    return new TmuxSession(tmuxPath, directory, guests, sessionName, cwd);
  }

  /** Starts the detached session, lets the guests' user in (if any), and only then opens the socket to its group. */
  async start(): Promise<void> {
    await this.tmux('new-session', '-d', '-s', this.sessionName, ...(this.cwd ? ['-c', this.cwd] : []));
    if (!this.guests) return;
    await this.tmux('server-access', '-a', this.guests.name);
    await chmod(this.socket, 0o660);
  }

  /**
   * Notes a process of this run that must not outlive it (the tunnel's ssh). It is ours to end:
   * if this run dies without ending it, the next run's removeDeadSessionDirectories does.
   */
  async recordCompanion(pid: number): Promise<void> {
    await writeFile(join(this.directory, companionFile), `${pid}\n`);
  }

  /** argv that attaches the host's terminal (run it with the environment of tmuxEnvironment()). */
  attachCommand(): string[] {
    return [this.tmuxPath, '-S', this.socket, 'attach-session'];
  }

  /**
   * Settles once the session ends, without polling: a control-mode client (read-only, sent no output,
   * no say in the window size) exits with it. Running tmux now and then instead would stall this
   * process for a millisecond or more each time, and in the embedded mode it carries the guests' keystrokes.
   * `stop` ends the watch (and settles `ended`).
   */
  watchEnd(): { ended: Promise<void>; stop(): void } {
    let stopped = false;
    let client: ChildProcess | undefined;
    const ended = (async () => {
      for (;;) {
        client = spawn(this.tmuxPath, ['-S', this.socket, '-C', 'attach-session', '-t', this.sessionName, '-f', 'no-output,read-only'], {
          // Its stdin stays open: control mode ends at end of input.
          env: tmuxEnvironment(), stdio: ['pipe', 'ignore', 'ignore'],
        });
        await new Promise((resolve) => client!.once('error', resolve).once('exit', resolve));
        if (stopped || !(await this.isRunning())) return;
        // Still running: the watch was detached (`detach-client -a` is a common habit), not ended.
        await new Promise((resolve) => setTimeout(resolve, reattachDelayMs));
        if (stopped) return;
      }
    })();
    return { ended, stop: () => { stopped = true; client?.kill(); } };
  }

  async isRunning(): Promise<boolean> {
    return this.tmux('has-session').then(() => true, () => false);
  }

  /** Every attached client, guests named; none once the server is gone. */
  async listClients(): Promise<TmuxClient[]> {
    const fields = ['client_pid', 'client_tty', 'client_readonly', 'client_created', 'client_activity', 'client_uid', 'client_user'];
    let stdout: string;
    try {
      stdout = await this.tmux('list-clients', '-F', fields.map((name) => `#{${name}}`).join('\t'));
    } catch (error) {
      if (!(await this.isRunning())) return [];
      throw error;
    }
    const clients = stdout.split('\n').filter(Boolean).map((line): TmuxClient => {
      const [pid, tty, readOnly, created, activity, uid, user] = line.split('\t');
      return {
        pid: Number(pid), tty: tty ?? '', readOnly: readOnly === '1', uid: Number(uid), user: user ?? '',
        createdAt: new Date(Number(created) * 1000), activityAt: new Date(Number(activity) * 1000),
      };
    });
    return Promise.all(clients.map(async (client) => {
      if (client.uid !== this.guests?.uid) return client;
      const argv = await processArgv(client.pid);
      const guest = argv && guestFromArgv(argv, { tmuxPath: this.tmuxPath, socket: this.socket });
      return guest ? { ...client, guest } : client;
    }));
  }

  /**
   * Leaves the server running for the host alone (`--keep-tmux`): the guests' user loses its access, which
   * detaches its clients ("[access not allowed]"), and the socket is the host's only. The directory is marked
   * kept, so that later runs do not take it for the leftovers of a crash. False (and all removed) if the
   * server had ended already.
   */
  async keep(): Promise<boolean> {
    if (!(await this.isRunning())) {
      await this.kill();
      return false;
    }
    if (this.guests) {
      try {
        await chmod(this.socket, 0o600);
        await this.tmux('server-access', '-d', this.guests.name);
      } catch (error) {
        // Guests who might still be attached must not get the host's shell for ever: stopped is safe, kept is not.
        await this.kill();
        const why = ((error as { stderr?: string }).stderr || (error as Error).message).trim();
        throw new Error(`the guests could not be shut out of tmux, so it was stopped (${why})`);
      }
    }
    await writeFile(join(this.directory, keptFile), '');
    return true;
  }

  /** Ends the server (attached clients see "[server exited]") and removes the socket and its directory. */
  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
    await rm(this.directory, { recursive: true, force: true });
  }

  private async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run(this.tmuxPath, ['-S', this.socket, ...args], { env: tmuxEnvironment(), timeout: 10_000 });
    return stdout;
  }
}

/**
 * Our environment without $TMUX: started from inside another tmux, tmux would
 * refuse to attach ("sessions should be nested with care"), and the new
 * server's shells would think they run in the outer one.
 */
export function tmuxEnvironment(): NodeJS.ProcessEnv {
  const { TMUX: _tmux, TMUX_PANE: _pane, ...rest } = process.env;
  return rest;
}

/**
 * Cleans up after runs that crashed (their process is gone): their tunnel's ssh, their tmux server and
 * the session directory. A session the host chose to keep (--keep-tmux) stays while its server runs.
 */
export async function removeDeadSessionDirectories(socketRoot: string = defaultSocketRoot()): Promise<string[]> {
  const entries = (await readdir(socketRoot).catch(() => [] as string[])).filter((entry) => {
    const run = /^(\d+)-[0-9a-f]{8}$/.exec(entry);
    return run !== null && !isProcessAlive(Number(run[1]));
  });
  if (entries.length === 0) return [];
  const tmuxPath = await findTmux();
  const removed: string[] = [];
  for (const entry of entries) {
    const directory = join(socketRoot, entry);
    const companion = await endCompanion(directory);
    if (companion) removed.push(companion);
    const socket = join(directory, socketName);
    const serverAlive = await run(tmuxPath, ['-S', socket, 'has-session'], { env: tmuxEnvironment() }).then(() => true, () => false);
    if (serverAlive) {
      if (await access(join(directory, keptFile)).then(() => true, () => false)) continue;
      await run(tmuxPath, ['-S', socket, 'kill-server'], { env: tmuxEnvironment() }).catch(() => {});
      removed.push(`the tmux session of ${entry}, with the shells and programs in it`);
    }
    await rm(directory, { recursive: true, force: true });
    removed.push(`tmux directory ${directory}`);
  }
  return removed;
}

/** Ends a dead run's companion if it still runs and is still ssh (pids get reused); says what it ended. */
async function endCompanion(directory: string): Promise<string | undefined> {
  const pid = Number(await readFile(join(directory, companionFile), 'utf8').catch(() => ''));
  const argv = pid > 0 ? await processArgv(pid) : undefined;
  await rm(join(directory, companionFile), { force: true });
  if (!argv || !/(^|\/)ssh$/.test(argv[0] ?? '')) return undefined;
  process.kill(pid, 'SIGTERM');
  return `the tunnel of ${basename(directory)} (ssh, pid ${pid})`;
}

/** Ours, a real directory, and nobody else may add or swap entries in it. */
async function ensurePrivateSocketRoot(root: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const info = await lstat(root);
  if (!info.isDirectory() || info.uid !== (process.getuid?.() ?? 0) || (info.mode & 0o022) !== 0) {
    throw new Error(`${root} is not a directory only you can write to: remove it, or choose another socket root`);
  }
}

/** The root is <host>:<guests' group> 2750; making it so needs root unless the host is in that group already. */
async function ensureSocketRoot(root: string, gid: number, explain: ExplainPrivilege): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  await mkdir(root, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const isRight = async () => {
    const info = await lstat(root);
    // /tmp is everyone's: a directory someone else made there (or a symlink) must not be used.
    if (!info.isDirectory() || info.uid !== uid) throw new Error(`${root} is not a directory of yours: remove it, or choose another socket root`);
    return info.gid === gid && (info.mode & 0o7777) === 0o2750;
  };
  if (await isRight()) return;
  // A chmod by a user outside the group silently drops setgid, hence the check after it.
  const byOurselves = await chown(root, uid, gid).then(() => chmod(root, 0o2750)).then(isRight, () => false);
  if (byOurselves) return;
  await runAsRoot(['install', '-d', '-o', String(uid), '-g', String(gid), '-m', '2750', root], {
    reason: `giving ${root} to the guests' group, so your guests can reach your tmux socket`,
    explain,
  });
  if (!(await isRight())) throw new Error(`${root} is still not group-owned by the guests' group with mode 2750`);
}

/** The tmux on our PATH, as an absolute path: the guests' forced command must run the very same tmux. */
async function findTmux(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter((entry) => entry.startsWith('/'))) {
    const candidate = join(dir, 'tmux');
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) {
      const { stdout } = await run(candidate, ['-V']);
      // "tmux 3.3a", "tmux next-3.4"; a build without a number ("tmux master") is given the benefit of the doubt.
      const version = /(\d+)\.(\d+)/.exec(stdout);
      if (version && Number(version[1]) * 100 + Number(version[2]) < 303) {
        throw new Error(`${stdout.trim()} is too old: tmux.me needs tmux 3.3 or newer (for server-access)`);
      }
      return candidate;
    }
  }
  throw new Error('tmux is not installed (or not on PATH): install tmux 3.3 or newer');
}
