import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@tmuxme/testing';
import { ensureLocalAccount, PairingWorld, PtyTerminal, shellQuote, Terminal, type Person } from '../src/index.js';

const run = promisify(execFile);

/**
 * The host's terminal goes away with a guest on board: the window closes (the pty hangs up), or tmuxme gets
 * SIGHUP or SIGTERM. Every time, in the TUI and with --no-tui, in both hosting modes, the session ends as `q`
 * ends it: the guest's ssh ends, the API forgets the session, the box's port closes, no tmux of the run is
 * left, and the run exits with the status that says why. With --keep-tmux, all of that but tmux, which the
 * host can attach to afterwards.
 */
let world: PairingWorld;
let hana: Person;
let hiro: Person;
let alice: Person;
const terminals: Terminal[] = [];
const hosts: PtyTerminal[] = [];

/** What differs between the two ways to host. */
const modes = {
  // An ordinary user with no sshd: tmuxme serves the guests' SSH itself.
  'embedded': { host: () => hana, flags: () => '', socketRoot: () => `/tmp/tmuxme-${hana.account!.uid}-private` },
  // The seed's way, as root: the namespace's sshd and the `tmuxme` user.
  'system-sshd': { host: () => hiro, flags: () => `--system-sshd -i ${shellQuote(hiro.keyFile)}`, socketRoot: () => '/tmp/tmuxme-0' },
};
type ModeName = keyof typeof modes;
const endings = {
  'the terminal closes': { end: (host: PtyTerminal) => host.close(), exitCode: 129, reason: 'the terminal closed' },
  'SIGHUP': { end: (host: PtyTerminal) => host.signal('SIGHUP'), exitCode: 129, reason: 'the terminal closed (SIGHUP)' },
  'SIGTERM': { end: (host: PtyTerminal) => host.signal('SIGTERM'), exitCode: 143, reason: 'tmuxme was told to stop (SIGTERM)' },
};
type EndingName = keyof typeof endings;

beforeAll(async () => {
  world = await PairingWorld.start({ subnets: [77, 78, 79] });
  hana = await world.signUp('hana', await ensureLocalAccount('tmuxme-host-e2e'));
  hiro = await world.signUp('hiro');
  alice = await world.signUp('alice');
}, 120_000);
afterAll(async () => {
  hosts.forEach((host) => host.close());
  await Promise.all(terminals.map((t) => t.close()));
  await world?.stop();
});

/** Where the host is when the terminal goes: on the TUI's screen, in tmux from the TUI (Enter), or in tmux after --no-tui's lines. */
const screens = {
  'on the TUI\'s screen': { args: '', attach: false },
  'in tmux, from the TUI': { args: '', attach: true },
  'in tmux, with --no-tui': { args: '--no-tui', attach: false },
};
type ScreenName = keyof typeof screens;

interface HostRun {
  terminal: PtyTerminal;
  sessionId: string;
  port: number;
  /** The run's own tmux directory. */
  directory: string;
}

/**
 * Enter on the TUI until tmux's status line shows: a key typed the instant the screen first shows can come before
 * the TUI reads keys (a loaded machine), and then it is lost. Once attached, an Enter more is an empty shell line.
 */
async function attachFromTheTui(terminal: PtyTerminal): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    terminal.type('\r');
    if (await terminal.waitFor(/\[tmuxme\] 0:/, 3_000).then(() => true, () => false)) return;
  }
  throw new Error(`tmux would not attach:\n${terminal.text()}`);
}

/** A hosting run in a terminal of the test's, once its guests can join, with the host where `screen` says. */
async function hostFor(modeName: ModeName, screen: ScreenName, moreArgs = ''): Promise<HostRun> {
  const mode = modes[modeName];
  const host = mode.host();
  const { args, attach } = screens[screen];
  const terminal = PtyTerminal.open(world.host, ['sh', '-c', `exec ${world.cliCommand(host, `${args} ${moreArgs} alice ${mode.flags()}`)}`], world.cliEnvironment(host, world.host));
  hosts.push(terminal);
  const ready = await terminal.waitFor(args === '--no-tui' ? /Guests join with: / : /Your guests were mailed/, 60_000);
  if (attach) await attachFromTheTui(terminal);
  const sessionId = /session ([0-9a-f]{24})/.exec(ready)![1]!;
  const session = (await host.api.request('GET', `/api/v1/pairing/sessions/${sessionId}`)).json as { port: number };
  // The run's tmux directory is named after its process, the terminal's own.
  const [entry] = (await readdir(mode.socketRoot())).filter((name) => name.startsWith(`${terminal.pid}-`));
  expect(entry).toBeDefined();
  return { terminal, sessionId, port: session.port, directory: join(mode.socketRoot(), entry!) };
}

async function aliceJoins(port: number): Promise<Terminal> {
  const terminal = await Terminal.open(world.guest, join(world.dir, `alice-${Date.now()}.tmux`),
    `ssh -F none -i ${shellQuote(alice.keyFile)} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p ${port} tmuxme@box.test`,
    { PATH: process.env.PATH!, HOME: alice.home, TERM: 'xterm-256color' });
  terminals.push(terminal);
  await terminal.waitFor(/tmux\.me: joined as alice/);
  return terminal;
}

const answersFromOutside = (port: number) =>
  world.guest.exec('bash', ['-c', `exec 3<>/dev/tcp/box.test/${port}`], { timeoutMs: 5_000 }).then(() => true, () => false);
const tmuxServersIn = async (directory: string) => (await run('pgrep', ['-f', `tmux -S ${directory}/`]).catch(() => ({ stdout: '' }))).stdout.trim();
const liveSessionIds = async (host: Person) => ((await host.api.request('GET', '/api/v1/pairing/sessions')).json as { id: string }[]).map((s) => s.id);
const runLog = (host: Person) => join(host.home, '.local/state/tmuxme/last-run.log');

/**
 * Hosts, lets alice in, ends the run as `endingName` says and checks what must follow: the guest out, the API's
 * session and the box's port gone, and the run's exit status and log. Resolves with what is left to check of tmux.
 */
async function endAndCheck(modeName: ModeName, screen: ScreenName, endingName: EndingName, moreArgs = ''): Promise<{ directory: string; log: string }> {
  const hosting = await hostFor(modeName, screen, moreArgs);
  try {
    return await checkTheEnd(hosting, modes[modeName].host(), endings[endingName]);
  } finally {
    // A check that failed half-way leaves no run behind for the next case.
    hosting.terminal.close();
  }
}

async function checkTheEnd({ terminal, sessionId, port, directory }: HostRun, host: Person, ending: (typeof endings)[EndingName]) {
  const guest = await aliceJoins(port);
  expect(await tmuxServersIn(directory)).not.toBe('');
  expect(await answersFromOutside(port)).toBe(true);

  const printedBefore = terminal.text();
  ending.end(terminal);
  // Within 2 s: ending the session is the first thing undone.
  await eventually(async () => !(await liveSessionIds(host)).includes(sessionId), 2_000);
  expect(await terminal.exited).toEqual({ exitCode: ending.exitCode, signal: 0 });
  // Whatever the terminal could still show: no unhandled error, no stack.
  expect(terminal.text()).not.toMatch(/Error|Unhandled|\n\s+at /);
  expect(printedBefore).not.toMatch(/Error|Unhandled/);
  await guest.waitFor(/\[exited \d+\]/);
  expect(await answersFromOutside(port)).toBe(false);

  const log = await readFile(runLog(host), 'utf8');
  expect((await stat(runLog(host))).mode & 0o777).toBe(0o600);
  expect(log).toContain(`Ending the session: ${ending.reason}`);
  expect(log).not.toMatch(/problem:/);
  expect(log.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d exit ${ending.exitCode}$`));
  return { directory, log };
}

describe.each(Object.keys(modes) as ModeName[])('hosting with %s, a guest on board', (modeName) => {
  // In tmux from the TUI, the terminal closing is the --keep-tmux case below: the other endings there add nothing.
  describe.each(['on the TUI\'s screen', 'in tmux, with --no-tui'] as ScreenName[])('the host %s', (screen) => {
    it.each(Object.keys(endings) as EndingName[])('%s: the session ends and nothing of it is left', async (endingName) => {
      const { directory } = await endAndCheck(modeName, screen, endingName);
      expect(await tmuxServersIn(directory)).toBe('');
      await expect(stat(directory)).rejects.toThrow();
    }, 90_000);
  });

  it('--keep-tmux, and the terminal closes: the pairing ends the same, tmux goes on for the host, and the next run says so', async () => {
    const host = modes[modeName].host();
    const { directory, log } = await endAndCheck(modeName, 'in tmux, from the TUI', 'the terminal closes', '--keep-tmux');
    const socket = join(directory, 'socket');
    expect(log).toMatch(new RegExp(`Your tmux session goes on \\(--keep-tmux\\); attach to it with: \\S*tmux -S ${socket} attach-session`));

    // Attachable, as the host, from a new terminal.
    const attached = await Terminal.open(world.host, join(world.dir, `kept-${modeName}.tmux`),
      world.commandAs(host, `tmux -S ${shellQuote(socket)} attach-session`), world.cliEnvironment(host, world.host));
    terminals.push(attached);
    await attached.type('echo still-here-$((6*7))');
    await attached.waitFor(/still-here-42/);

    // The next run (any command) tells the host how the last one ended.
    const { stderr } = await world.host.exec('sh', ['-c', world.cliCommand(host, 'sessions')], { env: world.cliEnvironment(host, world.host) });
    expect(stderr).toMatch(/Your last tmuxme run \(tmuxme --keep-tmux alice.*\) ended at \d\d:\d\d with status 129:/);
    expect(stderr).toContain('Ending the session: the terminal closed');
    expect(stderr).toContain(`-S ${socket} attach-session`);

    await run('tmux', ['-S', socket, 'kill-server']);
  }, 90_000);

  it('--keep-tmux, and SIGTERM while the host works in tmux: the pairing ends, and the host stays in tmux until they detach', async () => {
    const host = modes[modeName].host();
    const { terminal, sessionId, port, directory } = await hostFor(modeName, 'in tmux, with --no-tui', '--keep-tmux');
    try {
      const guest = await aliceJoins(port);
      terminal.signal('SIGTERM');
      await guest.waitFor(/\[exited \d+\]/);
      await eventually(async () => !(await liveSessionIds(host)).includes(sessionId));
      expect(await answersFromOutside(port)).toBe(false);

      // Still at work in tmux: nothing pulled the host out of it.
      terminal.type('echo after-the-pairing-$((6*7))\r');
      await terminal.waitFor(/after-the-pairing-42/);
      terminal.type('\x02d');
      expect(await terminal.exited).toEqual({ exitCode: 143, signal: 0 });
      // Said again once tmux has given the screen back: the end, and how to go back in.
      const after = terminal.text().split('[detached').at(-1)!;
      expect(after).toContain('Session over (tmuxme was told to stop (SIGTERM)).');
      expect(after).toContain(`Your tmux session goes on (--keep-tmux); attach to it with: `);
      expect(after).not.toContain('the session goes on. Ctrl-C ends it');
      await run('tmux', ['-S', join(directory, 'socket'), 'has-session']);
      await run('tmux', ['-S', join(directory, 'socket'), 'kill-server']);
    } finally {
      terminal.close();
    }
  }, 90_000);
});
