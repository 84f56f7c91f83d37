/**
 * How soon a pairing session can be joined, and what the tunnel adds to typing, on the whole system
 * as e2e's PairingWorld builds it (the services, a real tunnel box with tunnel-sync, the notifier;
 * the host and the guest each in a network namespace of their own), for both ways the CLI hosts:
 * embedded (the default: ssh2's tunnel and the CLI's own SSH server) and `--system-sshd` (the host's sshd):
 *
 *   - RUNS times per mode, the modes taking turns: `tmuxme --no-tui --no-attach alice` started in the
 *     host's namespace → alice's ssh (the pinned join command, from the guest's namespace) attached to
 *     the host's tmux; the CLI's steps on the way, and for reference one ssh login through the same tunnel and
 *     one ssh login straight to the host's sshd into the same tmux (the setup's target is a ratio to the latter);
 *   - a keystroke's echo (cat in the host's tmux pane) through each mode's pairing path, against the
 *     same ssh straight to the host's sshd and through a plain `ssh -R` on the same box, and through each
 *     mode's jump path (the pinned jump command: the box's SSH port, its join user, then the leased port):
 *     once through CLIs that have just started, and again after PRIMING_KEYSTROKES untimed keystrokes per path.
 *
 * The CLI runs as root in both modes (the seed's mode needs it; the embedded mode does not care).
 *
 *   sudo npm run bench:session-setup     (RUNS=20 RTT_SAMPLES=1000 PRIMING_KEYSTROKES=3000 by default, BENCH_QUICK=1: 3, 50, 300;
 *                                         MONGODB_URI, AMQP_URL honoured)
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { startTestServers, type NetworkNamespace } from '@tmuxme/testing';
import { PairingWorld } from '@tmuxme/e2e';
import { attachOptions, GuestSsh } from './src/guest-ssh.js';
import { hostModes, startHost, type HostMode } from './src/host-cli.js';
import { catInPane, echoTimes, greeting, plainTunnel, typeThrough, type EchoPath } from './src/keystroke-echo.js';
import { figures } from './src/report.js';
import { quick, size } from './src/sizes.js';
import { percentile } from './src/stats.js';

const runs = size('RUNS', 20, 3);
const echoOptions = { samples: size('RTT_SAMPLES', 1_000, 50), rounds: 5, warmUp: quick ? 10 : 50 };
const primingKeystrokes = size('PRIMING_KEYSTROKES', 3_000, 300);
const figure = figures('session-setup');
const repoRoot = resolve(import.meta.dirname, '..');
await promisify(execFile)('npm', ['run', 'build', '--workspace', '@tmuxme/cli'], { cwd: repoRoot });

// No Jest global setup here: FerretDB and a RabbitMQ vhost of the run's own, as the tests get them.
// Subnets and ports apart from the e2e test's, so this can run while it does.
const servers = await startTestServers();
const world = await PairingWorld.start({ servers, subnets: [81, 82, 83], ports: { first: 32000, last: 32999 } })
  .catch(async (error: unknown) => { await servers.stop(); throw error; });
const hana = await world.signUp('hana');
const alice = await world.signUp('alice');
const [embedded, systemSshd] = hostModes as [HostMode, HostMode];

/** One fresh session, from the spawn until alice is in; the session is ended cleanly before the next. */
async function setupRun(mode: HostMode): Promise<Map<string, number>> {
  const host = startHost(world, hana, alice, mode);
  try {
    const pinned = await host.pinned;
    // alice tries as soon as the CLI says the session is up, and again until she is in.
    for (let tries = 1; !host.marks.has('attached'); tries += 1) {
      const ssh = new GuestSsh(world.guest, alice, pinned, attachOptions);
      if (await ssh.shows(greeting)) host.marks.set('attached', host.elapsed());
      await ssh.close();
      if (tries === 20 && !host.marks.has('attached')) throw new Error(`alice was not let in (${mode.name}) after 20 tries; the last said:\n${JSON.stringify(ssh.output)}`);
    }
    return host.marks;
  } finally {
    await host.stop();
  }
}

/**
 * ms of one ssh (through the tunnel, from the guest's namespace, unless told otherwise): to its end with `-T`
 * (logged in, no pty: refused at once), or to tmux's greeting with a pty.
 */
async function loginMs(mode: HostMode, pinned: string, attach: boolean, from: NetworkNamespace | 'this machine' = world.guest): Promise<number> {
  const start = performance.now();
  const ssh = new GuestSsh(from === 'this machine' ? undefined : from, alice, pinned, attach ? attachOptions : ['-T']);
  const expected = attach ? greeting : mode.withoutPty;
  if (!(await ssh.shows(expected))) throw new Error(`alice's ssh (${mode.name}) ended without "${expected}":\n${JSON.stringify(ssh.output)}`);
  if (!attach) await ssh.closed;
  const took = performance.now() - start;
  await ssh.close();
  return took;
}

const milestones: [string, string][] = [
  ['first line', 'CLI running (its first line)'],
  ['Lease a port on the tunnel box', '  port leased'],
  ['Open the reverse tunnel', '  tunnel open'],
  ['Start tmux', '  tmux started'],
  ['ready', '  session declared (Pinned: printed)'],
  ['attached', 'alice greeted by the host\'s tmux'],
];
/** Each mode's pinned jump command (through the box's SSH port), from the session its pinned direct command names. */
async function pinnedJumpCommands(pinned: Map<HostMode, string>): Promise<Map<HostMode, string>> {
  const sessions = (await hana.api.request('GET', '/api/v1/pairing/sessions')).json as { port: number; pinnedJumpJoinCommand?: string }[];
  return new Map([...pinned].map(([mode, command]) => {
    const port = Number(/-p (\d+) tmuxme@box\.test/.exec(command)?.[1]);
    const jump = sessions.find((session) => session.port === port)?.pinnedJumpJoinCommand;
    if (!jump) throw new Error(`no pinned jump command for the ${mode.name} session on port ${port}`);
    return [mode, jump];
  }));
}

const column = (text: string) => text.padStart(7);
const ms = (values: number[], p: number) => column(values.length > 0 ? percentile(values, p).toFixed(0) : '-');
const row = (label: string, cells: string[], note = '') => console.log(`${label.padEnd(48)} ${cells.join(' ')}${note}`);

try {
  const setups = new Map(hostModes.map((mode) => [mode, [] as Map<string, number>[]]));
  for (let i = 0; i < runs; i += 1) {
    for (const mode of hostModes) setups.get(mode)!.push(await setupRun(mode));
  }

  // Both sessions up at once for the rest: the references reach the host's sshd, which only the seed's mode lets alice into.
  const hosts = hostModes.map((mode) => ({ mode, cli: startHost(world, hana, alice, mode) }));
  let tunnel: Awaited<ReturnType<typeof plainTunnel>> | undefined;
  const logins = new Map(hostModes.map((mode) => [mode, { bare: [] as number[], attached: [] as number[] }]));
  const directLogins: number[] = [];
  let fresh: Map<string, number[]>;
  let primed: Map<string, number[]>;
  try {
    const pinned = new Map(await Promise.all(hosts.map(async ({ mode, cli }) => [mode, await cli.pinned] as const)));
    const seedPinned = pinned.get(systemSshd)!;
    // The seed's guest line in the host's sshd, reached with no relay: what a guest would wait for with no tmux.me at all.
    const direct = seedPinned.replace(/-p \d+ tmuxme@box\.test/, `-p 22 tmuxme@${world.host.address}`);
    for (let i = 0; i < runs; i += 1) {
      for (const mode of hostModes) {
        logins.get(mode)!.bare.push(await loginMs(mode, pinned.get(mode)!, false));
        logins.get(mode)!.attached.push(await loginMs(mode, pinned.get(mode)!, true));
      }
      directLogins.push(await loginMs(systemSshd, direct, true, 'this machine'));
    }
    for (const { cli } of hosts) await catInPane(await cli.tmuxSocket());
    tunnel = await plainTunnel(world, hana);
    const jump = await pinnedJumpCommands(pinned);
    const paths: EchoPath[] = [
      { name: 'pairing, embedded: guest → box → CLI (ssh2)', ns: world.guest, command: pinned.get(embedded)! },
      { name: 'pairing, --system-sshd: guest → box → CLI → sshd', ns: world.guest, command: seedPinned },
      { name: 'direct: this machine → host sshd', ns: undefined, command: direct },
      { name: 'plain ssh -R: guest → box → host sshd', ns: world.guest, command: seedPinned.replace(/-p \d+ /, `-p ${tunnel.port} `) },
      { name: 'embedded, through the SSH port (join)', ns: world.guest, command: jump.get(embedded)! },
      { name: '--system-sshd, through the SSH port (join)', ns: world.guest, command: jump.get(systemSshd)! },
    ];
    fresh = await echoTimes(paths, alice, echoOptions);
    await typeThrough(paths, alice, primingKeystrokes);
    primed = await echoTimes(paths, alice, echoOptions);
  } finally {
    await tunnel?.close();
    for (const { cli } of hosts) await cli.stop();
  }

  console.log(`\n\`tmuxme --no-tui --no-attach alice\` (as root; embedded mode: the default; seed mode: --system-sshd), spawned directly`);
  console.log(`in the host's namespace (compiled cli/dist, no terminal); alice runs the pinned join command from the guest's`);
  console.log(`namespace as soon as the CLI prints it, until tmux greets her; ssh runs in an 80×24 pty (script), as a guest's does. ${runs} runs per mode.`);
  row('', hostModes.map((mode) => mode.name.padStart(15)));
  row('ms since the spawn', hostModes.flatMap(() => [column('p50'), column('p90')]));
  for (const [mark, label] of milestones) {
    const cells = hostModes.flatMap((mode) => {
      const values = setups.get(mode)!.map((marks) => marks.get(mark)).filter((value) => value !== undefined);
      return [ms(values, 50), ms(values, 90)];
    });
    row(label, cells, mark === 'attached' ? '   target: p50 < 1000' : '');
  }
  console.log(`reference, one ssh through the tunnel of a session already up (${runs} each):`);
  row('  login (-T: no pty, turned away at once)', hostModes.flatMap((mode) => [ms(logins.get(mode)!.bare, 50), ms(logins.get(mode)!.bare, 90)]));
  row('  login and tmux attach', hostModes.flatMap((mode) => [ms(logins.get(mode)!.attached, 50), ms(logins.get(mode)!.attached, 90)]));
  row(`direct ssh login to the host's sshd and tmux attach, no relay (${runs})`, [ms(directLogins, 50), ms(directLogins, 90)]);
  for (const mode of hostModes) {
    const attached = setups.get(mode)!.map((marks) => marks.get('attached')!);
    const setupRatio = percentile(attached, 50) / percentile(directLogins, 50);
    const target = mode === embedded ? '<= 0.6' : undefined;
    row(`${mode.name}: start → greeted / direct ssh login, p50`, [column(`${setupRatio.toFixed(2)}×`)], target ? '   target: ≤ 0.60×' : '');
    figure(`${mode.name}: start → guest greeted by the host's tmux, p50`, percentile(attached, 50), 'ms', '< 1000');
    figure(`${mode.name}: start → guest greeted / direct ssh login, p50`, setupRatio, '×', target);
  }
  figure('direct ssh login and tmux attach, p50', percentile(directLogins, 50), 'ms');

  const ratio = (values: number[], reference: number[], p: number) => percentile(values, p) / percentile(reference, p);
  /**
   * Targets against direct ssh (what a guest would get with no relay at all) for the default mode, in both
   * phases; against a plain `ssh -R` on the same box (what tmux.me itself adds to a relay) once primed.
   */
  const reportEcho = (phase: string, echoes: Map<string, number[]>, targeted: boolean) => {
    const [pairingEmbedded, pairingSeed, direct, plain, jumpEmbedded, jumpSeed] = [...echoes.values()] as number[][] as [number[], number[], number[], number[], number[], number[]];
    console.log(`\nkeystroke echo, ${phase}: 1 byte to cat in the host's tmux pane and back, µs (${pairingEmbedded.length} samples per path, ${echoOptions.rounds} rounds)`);
    row('path', [column('p50'), column('p99')]);
    for (const [name, values] of echoes) row(name, [ms(values, 50), ms(values, 99)]);
    const againstPlain: [number, number] | undefined = targeted ? [1.2, 1.2] : undefined;
    const ratios: [string, string, number[], number[], [p50: number, p99: number] | undefined][] = [
      ['embedded', 'direct ssh', pairingEmbedded, direct, [1.7, 1.6]],
      ['--system-sshd', 'direct ssh', pairingSeed, direct, undefined],
      ['embedded', 'plain ssh -R', pairingEmbedded, plain, againstPlain],
      ['--system-sshd', 'plain ssh -R', pairingSeed, plain, againstPlain],
    ];
    // The jump path adds one hop inside the box (its sshd relays to the forward): its target is against the direct port's.
    const jumpRatios: [string, number[], number[]][] = [['embedded', jumpEmbedded, pairingEmbedded], ['--system-sshd', jumpSeed, pairingSeed]];
    for (const [mode, reference, values, against, target] of ratios) {
      row(`pairing ${mode} / ${reference}`, [50, 99].map((p) => column(`${ratio(values, against, p).toFixed(2)}×`)),
        target ? `   target: ≤ ${target[0].toFixed(2)}× p50, ≤ ${target[1].toFixed(2)}× p99` : '');
    }
    for (const [mode, values, against] of jumpRatios) {
      row(`${mode}: through the SSH port / the leased port`, [50, 99].map((p) => column(`${ratio(values, against, p).toFixed(2)}×`)), targeted ? '   target: ≤ 1.10× at both' : '');
      for (const p of [50, 99]) figure(`keystroke echo ${phase}, ${mode} through the SSH port / the leased port, p${p}`, ratio(values, against, p), '×', targeted ? '<= 1.1' : undefined);
    }
    const references: [string, number[]][] = [['pairing embedded', pairingEmbedded], ['pairing --system-sshd', pairingSeed], ['direct ssh', direct], ['plain ssh -R', plain]];
    for (const [path, values] of references) {
      for (const p of [50, 99]) figure(`keystroke echo ${phase}, ${path}, p${p}`, percentile(values, p), 'µs');
    }
    for (const [mode, reference, values, against, target] of ratios) {
      for (const [i, p] of [50, 99].entries()) {
        figure(`keystroke echo ${phase}, pairing ${mode} / ${reference}, p${p}`, ratio(values, against, p), '×', target ? `<= ${target[i]!}` : undefined);
      }
    }
  };

  // Against direct ssh, both phases have targets: a CLI must be fast before it has been typed through.
  reportEcho('through a fresh CLI', fresh, false);
  reportEcho(`after ${primingKeystrokes} keystrokes per path`, primed, true);
} finally {
  await world.stop();
  await servers.stop();
}
