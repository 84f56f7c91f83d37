import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { PairingWorld, Person } from '@tmuxme/e2e';

const repoRoot = resolve(import.meta.dirname, '../..');
/** The CLI as it is installed from npm: compiled, not through tsx (which costs a second at start). */
const compiledCli = resolve(repoRoot, 'cli/dist/bin/tmuxme.js');
const uid = process.getuid!();

/** One way the CLI hosts, and what a guest sees of it. */
export interface HostMode {
  name: 'embedded' | 'system-sshd';
  flags: string[];
  /** Where its tmux sockets are (cli/src/lib/tmux-session.ts): privateSocketRoot() with no XDG_RUNTIME_DIR, or defaultSocketRoot(). */
  socketRoot: string;
  /** What a guest hears with `ssh -T` (no pty): tmux's complaint, or the embedded server's refusal. */
  withoutPty: string;
}

export const hostModes: HostMode[] = [
  { name: 'embedded', flags: [], socketRoot: `/tmp/tmuxme-${uid}-private`, withoutPty: 'this session needs a terminal' },
  { name: 'system-sshd', flags: ['--system-sshd'], socketRoot: `/tmp/tmuxme-${uid}`, withoutPty: 'not a terminal' },
];

export interface HostCli {
  pid: number;
  /** ms since the spawn at which each milestone was seen. */
  marks: Map<string, number>;
  elapsed(): number;
  /** The pinned join command, once the CLI prints it (the session is declared). */
  pinned: Promise<string>;
  /** Where this run's tmux listens. */
  tmuxSocket(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `tmuxme --no-tui --no-attach <guest>` as `host`, spawned directly in the world's host namespace: no
 * terminal, so `--no-attach` (it would not attach without a tty anyway), and its plain lines timed
 * as they arrive.
 */
export function startHost(world: PairingWorld, host: Person, guest: Person, mode: HostMode): HostCli {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const env = Object.entries(world.cliEnvironment(host, world.host)).map(([name, value]) => `${name}=${value}`);
  const child = world.host.spawn('env', ['-i', ...env, process.execPath, compiledCli, '--no-tui', '--no-attach', ...mode.flags, guest.username, '-i', host.keyFile],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const marks = new Map<string, number>();
  const output: string[] = [];
  const exited = new Promise<void>((done) => child.once('close', () => done()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const pinned = new Promise<string>((ready, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const at = elapsed();
      output.push(line);
      if (marks.size === 0) marks.set('first line', at);
      const step = /^\[ok\] (.+?) \(/.exec(line)?.[1];
      if (step) marks.set(step, at);
      const command = /^Pinned: (.+)$/.exec(line)?.[1];
      if (command) {
        marks.set('ready', at);
        ready(command);
      }
    });
    void exited.then(() => fail(new Error(`tmuxme (${mode.name}) exited before the session was ready:\n${output.join('\n')}`)));
  });
  const tmuxSocket = async () => {
    const directory = (await readdir(mode.socketRoot)).find((name) => name.startsWith(`${child.pid}-`));
    if (!directory) throw new Error(`no tmux directory of process ${child.pid} in ${mode.socketRoot}`);
    return join(mode.socketRoot, directory, 'socket');
  };
  // Ctrl-C, as a host ends a session: the CLI undoes everything, then exits.
  const stop = async () => {
    child.kill('SIGINT');
    await exited;
  };
  return { pid: child.pid!, marks, elapsed, pinned, tmuxSocket, stop };
}
