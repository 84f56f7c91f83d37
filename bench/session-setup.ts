/**
 * How soon a pairing session can be joined, and what the tunnel adds to typing, on the whole system
 * as e2e's PairingWorld builds it (the services, a real tunnel box with tunnel-sync, the notifier;
 * the host and the guest each in a network namespace of their own):
 *
 *   - RUNS times: `tmuxme --no-tui --no-attach alice` started in the host's namespace → alice's ssh
 *     (the pinned join command, from the guest's namespace) greeted by the host's tmux; the CLI's
 *     steps on the way, and one ssh login through the same tunnel for reference;
 *   - a keystroke's echo (cat in the host's tmux pane) through the pairing path, against the same
 *     ssh straight to the host's sshd and through a plain `ssh -R` on the same box.
 *
 *   sudo npm run bench:session-setup     (RUNS=20 RTT_SAMPLES=500 by default, BENCH_QUICK=1: 3, 50;
 *                                         MONGODB_URI, AMQP_URL honoured)
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { canConnect, eventually, startTestServers, tunnelSshArgs, type NetworkNamespace } from '@tmuxme/testing';
import { guestJoinCommand, PairingWorld } from '@tmuxme/e2e';
import { figures } from './src/report.js';
import { quick, size } from './src/sizes.js';
import { percentile } from './src/stats.js';

const runs = size('RUNS', 20, 3);
const rttSamples = size('RTT_SAMPLES', 500, 50);
const rttRounds = 5;
const warmUp = quick ? 10 : 50;
const figure = figures('session-setup');
const greeting = 'tmux.me: joined as alice';
const repoRoot = resolve(import.meta.dirname, '..');
const compiledCli = resolve(repoRoot, 'cli/dist/bin/tmuxme.js');
const run = promisify(execFile);
await run('npm', ['run', 'build', '--workspace', '@tmuxme/cli'], { cwd: repoRoot });

// No Jest global setup here: FerretDB and a RabbitMQ vhost of the run's own, as the tests get them.
// Subnets and ports apart from the e2e test's, so this can run while it does.
const servers = await startTestServers();
const world = await PairingWorld.start({ servers, subnets: [81, 82], ports: { first: 32000, last: 32999 } })
  .catch(async (error: unknown) => { await servers.stop(); throw error; });
const hana = await world.signUp('hana');
const alice = await world.signUp('alice');

interface HostCli {
  pid: number;
  /** ms since the spawn at which each milestone was seen. */
  marks: Map<string, number>;
  elapsed(): number;
  /** The pinned join command, once the CLI prints it (the session is declared). */
  pinned: Promise<string>;
  stop(): Promise<void>;
}

/**
 * hana's CLI, spawned directly in the host's namespace: no terminal, so `--no-attach` (it would not
 * attach without a tty anyway), and its plain lines timed as they arrive.
 */
function startHost(): HostCli {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const env = Object.entries(world.cliEnvironment(hana, world.host)).map(([name, value]) => `${name}=${value}`);
  // The CLI as it is installed from npm: compiled, not through tsx (which costs a second at start).
  const child = world.host.spawn('env', ['-i', ...env, process.execPath, compiledCli, '--no-tui', '--no-attach', 'alice', '-i', hana.keyFile],
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
    void exited.then(() => fail(new Error(`tmuxme exited before the session was ready:\n${output.join('\n')}`)));
  });
  // Ctrl-C, as a host ends a session: the CLI undoes everything, then exits.
  const stop = async () => {
    child.kill('SIGINT');
    await exited;
  };
  return { pid: child.pid!, marks, elapsed, pinned, stop };
}

/** alice's ssh with a pinned join command, and its output read as it comes (ns undefined: this machine's). */
class GuestSsh {
  readonly closed: Promise<void>;
  private readonly child: ChildProcess;
  private seen = '';
  private onOutput: (() => void) | undefined;

  constructor(ns: NetworkNamespace | undefined, pinned: string, options: string[]) {
    // Through sh: the pinned command carries quotes. `exec` leaves ssh itself as the child.
    const args = ['-c', `exec ${guestJoinCommand(pinned, alice, ['-o', 'BatchMode=yes', ...options])}`];
    const settings = { env: { PATH: process.env.PATH, HOME: alice.home, TERM: 'xterm-256color' }, stdio: 'pipe' as const };
    this.child = ns ? ns.spawn('sh', args, settings) : spawn('sh', args, settings);
    // stderr too: where the far end's complaints (and ssh's own) arrive.
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        this.seen = (this.seen + chunk.toString('latin1')).slice(-4096);
        this.onOutput?.();
      });
    }
    this.closed = new Promise((done) => this.child.once('close', () => done()));
  }

  /** True once `text` has shown, false if ssh ended first. */
  shows(text: string): Promise<boolean> {
    const found = new Promise<boolean>((done) => {
      this.onOutput = () => { if (this.seen.includes(text)) done(true); };
      this.onOutput();
    });
    return Promise.race([found, this.closed.then(() => this.seen.includes(text))]);
  }

  /** µs from writing `byte` to seeing it come back. */
  echo(byte: string): Promise<number> {
    this.seen = '';
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no echo of ${JSON.stringify(byte)} within 5 s`)), 5_000);
      const start = performance.now();
      this.onOutput = () => {
        if (!this.seen.includes(byte)) return;
        const took = (performance.now() - start) * 1000;
        this.onOutput = undefined;
        clearTimeout(timer);
        done(took);
      };
      this.child.stdin!.write(byte);
    });
  }

  /** Writes bytes untimed, and lets whatever they cause go by. */
  async send(bytes: string, settleMs: number): Promise<void> {
    this.child.stdin!.write(bytes);
    await sleep(settleMs);
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
    await this.closed;
  }
}

// `-tt`: a pty at the far end, as a guest's terminal gets; `-e none`: every byte goes through.
const attachOptions = ['-tt', '-e', 'none'];

/** One fresh session, from the spawn until alice is in; the session is ended cleanly before the next. */
async function setupRun(): Promise<Map<string, number>> {
  const host = startHost();
  try {
    const pinned = await host.pinned;
    // alice tries as soon as the CLI says the session is up, and again until she is greeted.
    for (let tries = 1; !host.marks.has('attached'); tries += 1) {
      if (tries > 20) throw new Error('alice was not let in after 20 tries');
      const ssh = new GuestSsh(world.guest, pinned, attachOptions);
      if (await ssh.shows(greeting)) host.marks.set('attached', host.elapsed());
      await ssh.close();
    }
    return host.marks;
  } finally {
    await host.stop();
  }
}

/**
 * ms of one ssh through the tunnel: to its end with `-T` (logged in, the forced tmux finds no
 * terminal and exits at once), or to tmux's greeting with a pty.
 */
async function loginMs(pinned: string, untilGreeted: boolean): Promise<number> {
  const start = performance.now();
  const ssh = new GuestSsh(world.guest, pinned, untilGreeted ? attachOptions : ['-T']);
  const expected = untilGreeted ? greeting : 'not a terminal';
  if (!(await ssh.shows(expected))) throw new Error(`alice's ssh ended without "${expected}"`);
  if (!untilGreeted) await ssh.closed;
  const took = performance.now() - start;
  await ssh.close();
  return took;
}

/** Where the CLI keeps this run's tmux socket (cli/src/lib/tmux-session.ts: /tmp/tmuxme-<uid>/<pid>-<random>/socket). */
async function tmuxSocketOf(pid: number): Promise<string> {
  const root = `/tmp/tmuxme-${process.getuid!()}`;
  const directory = (await readdir(root)).find((name) => name.startsWith(`${pid}-`));
  if (!directory) throw new Error(`no tmux directory of process ${pid} in ${root}`);
  return join(root, directory, 'socket');
}

/**
 * A bare OpenSSH `ssh -N -R` from the host's namespace to the same box, on a port leased as hana:
 * tunnel-sync owns the box's authorized_keys (a line written by hand would be overwritten), and a
 * lease is what makes it let her key listen there. Nothing of ours carries the bytes.
 */
async function plainTunnel(): Promise<{ port: number; close(): Promise<void> }> {
  const lease = await hana.api.request('GET', '/api/v1/pairing/port');
  if (lease.status >= 300) throw new Error(`leasing a port: ${lease.status} ${lease.text}`);
  const port = lease.json.port as number;
  await eventually(async () => (await readFile(world.box.authorizedKeysFile, 'utf8')).includes(`permitlisten="${port}"`));
  const knownHosts = join(world.dir, 'box-known-hosts');
  await writeFile(knownHosts, `[box.test]:${world.box.port} ${world.box.hostPublicKey}\n`);
  const ssh = world.host.spawn('ssh', [
    ...tunnelSshArgs(world.box, hana.keyFile, knownHosts), '-o', 'ExitOnForwardFailure=yes', '-N', '-R', `${port}:127.0.0.1:22`, 'tunnel@box.test',
  ], { stdio: 'ignore' });
  const closed = new Promise((done) => ssh.once('close', done));
  // The box listens on all of this machine's addresses, loopback included.
  await eventually(() => canConnect(port));
  return { port, close: async () => { ssh.kill('SIGTERM'); await closed; } };
}

/** Echo times over one connection: greeted, left alone until tmux's message is gone, warmed up, then sampled. */
async function echoSamples(ns: NetworkNamespace | undefined, pinned: string, count: number): Promise<number[]> {
  const ssh = new GuestSsh(ns, pinned, attachOptions);
  try {
    if (!(await ssh.shows(greeting))) throw new Error(`not greeted through ${pinned}`);
    // The greeting stays for tmux's display-time (750 ms); clearing it would redraw among the samples.
    await sleep(1_000);
    const times: number[] = [];
    for (let i = 0; i < warmUp + count; i += 1) {
      // Back to column 0 now and then, untimed: a wrapping or scrolling line redraws more than one cell.
      if (i % 50 === 0) await ssh.send('\r', 20);
      const took = await ssh.echo('x');
      if (i >= warmUp) times.push(took);
    }
    return times;
  } finally {
    await ssh.close();
  }
}

/**
 * The three paths take turns, a connection each per round, so load from elsewhere on the machine
 * falls on all three alike. The client (alice's key, the pinned options, `-tt`) and the far end (the
 * forced tmux attach, cat in the pane) are the same for all: only the way between them differs.
 */
async function echoTimes(host: HostCli, pinned: string): Promise<Record<string, number[]>> {
  const socket = await tmuxSocketOf(host.pid);
  // cat in raw mode echoes each byte as it reads it; with no status refresh, nothing else is drawn.
  await run('tmux', ['-S', socket, 'set', '-g', 'status-interval', '0']);
  await run('tmux', ['-S', socket, 'respawn-pane', '-k', 'stty raw -echo; exec cat']);
  const tunnel = await plainTunnel();
  const paths: [string, NetworkNamespace | undefined, string][] = [
    ['pairing: guest → box → CLI tunnel → host sshd', world.guest, pinned],
    ['direct: this machine → host sshd', undefined, pinned.replace(/-p \d+ tmuxme@box\.test/, `-p 22 tmuxme@${world.host.address}`)],
    ['plain ssh -R: guest → box → host sshd', world.guest, pinned.replace(/-p \d+ /, `-p ${tunnel.port} `)],
  ];
  const times: Record<string, number[]> = Object.fromEntries(paths.map(([name]) => [name, []]));
  try {
    for (let round = 0; round < rttRounds; round += 1) {
      for (const [name, ns, command] of paths) times[name]!.push(...await echoSamples(ns, command, Math.ceil(rttSamples / rttRounds)));
    }
  } finally {
    await tunnel.close();
  }
  return times;
}

const milestones: [string, string][] = [
  ['first line', 'CLI running (its first line)'],
  ['Lease a port on the tunnel box', '  port leased'],
  ['Open the reverse tunnel', '  tunnel open'],
  ['Start tmux', '  tmux started'],
  ['ready', '  session declared (Pinned: printed)'],
  ['attached', 'alice greeted by the host\'s tmux'],
];

try {
  const setups: Map<string, number>[] = [];
  for (let i = 0; i < runs; i += 1) setups.push(await setupRun());

  const host = startHost();
  const pinned = await host.pinned;
  const logins: number[] = [];
  const attaches: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    logins.push(await loginMs(pinned, false));
    attaches.push(await loginMs(pinned, true));
  }
  const echoes = await echoTimes(host, pinned).finally(() => host.stop());

  const ms = (values: number[], p: number) => percentile(values, p).toFixed(0).padStart(7);
  console.log(`\n\`tmuxme --no-tui --no-attach alice\`, spawned directly in the host's namespace (compiled cli/dist, no terminal);`);
  console.log(`alice runs the pinned join command from the guest's namespace as soon as the CLI prints it. ${runs} runs.`);
  console.log(`${'ms since the spawn'.padEnd(44)} ${'p50'.padStart(7)} ${'p90'.padStart(7)}`);
  for (const [mark, label] of milestones) {
    const values = setups.map((marks) => marks.get(mark)).filter((value) => value !== undefined);
    console.log(`${label.padEnd(44)} ${ms(values, 50)} ${ms(values, 90)}${mark === 'attached' ? '   target: p50 < 1000' : ''}`);
  }
  console.log(`reference, one ssh through the tunnel of a session already up (${runs} each):`);
  console.log(`${'  login (-T: the forced tmux exits at once)'.padEnd(44)} ${ms(logins, 50)} ${ms(logins, 90)}`);
  console.log(`${'  login and tmux attach, to the greeting'.padEnd(44)} ${ms(attaches, 50)} ${ms(attaches, 90)}`);

  const us = (values: number[], p: number) => percentile(values, p).toFixed(0).padStart(7);
  const counts = Object.values(echoes)[0]!.length;
  console.log(`\nkeystroke echo: 1 byte to cat in the host's tmux pane and back, µs (${counts} samples per path, ${rttRounds} rounds)`);
  console.log(`${'path'.padEnd(48)} ${'p50'.padStart(7)} ${'p99'.padStart(7)}`);
  for (const [name, values] of Object.entries(echoes)) console.log(`${name.padEnd(48)} ${us(values, 50)} ${us(values, 99)}`);
  const [pairing, direct, plain] = Object.values(echoes) as [number[], number[], number[]];
  const ratio = (p: number, reference = plain) => percentile(pairing, p) / percentile(reference, p);
  const shownRatio = (p: number, reference?: number[]) => `${ratio(p, reference).toFixed(2)}×`.padStart(7);
  console.log(`${'pairing / direct ssh'.padEnd(48)} ${shownRatio(50, direct)} ${shownRatio(99, direct)}`);
  console.log(`${'pairing / plain ssh -R'.padEnd(48)} ${shownRatio(50)} ${shownRatio(99)}   target: ≤ 1.20× at both`);

  const attached = setups.map((marks) => marks.get('attached')!);
  figure('start → guest greeted by the host\'s tmux, p50', percentile(attached, 50), 'ms', '< 1000');
  for (const [path, values] of [['pairing tunnel', pairing], ['direct ssh', direct], ['plain ssh -R', plain]] as const) {
    figure(`keystroke echo, ${path}, p50`, percentile(values, 50), 'µs');
  }
  for (const p of [50, 99]) {
    figure(`keystroke echo, pairing tunnel / direct ssh, p${p}`, ratio(p, direct), '×');
    figure(`keystroke echo, pairing tunnel / plain ssh -R, p${p}`, ratio(p), '×', '<= 1.2');
  }
} finally {
  await world.stop();
  await servers.stop();
}
