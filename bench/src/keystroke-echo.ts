import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { canConnect, eventually, tunnelSshArgs, type NetworkNamespace } from '@tmuxme/testing';
import type { PairingWorld, Person } from '@tmuxme/e2e';
import { attachOptions, GuestSsh } from './guest-ssh.js';

const run = promisify(execFile);

/** One way from a guest's ssh to a host's tmux pane: from where, with which command. */
export interface EchoPath {
  name: string;
  ns: NetworkNamespace | undefined;
  command: string;
}

/** What tmux shows a guest once attached, in either mode (cli/src/lib/guest-command.ts). */
export const greeting = 'tmux.me: joined as ';

/** cat in raw mode echoes each byte as it reads it; with no status refresh, nothing else is drawn. */
export async function catInPane(socket: string): Promise<void> {
  await run('tmux', ['-S', socket, 'set', '-g', 'status-interval', '0']);
  await run('tmux', ['-S', socket, 'respawn-pane', '-k', 'stty raw -echo; exec cat']);
}

/**
 * A bare OpenSSH `ssh -N -R` from the host's namespace to the same box, to the host's sshd, on a port
 * leased as `host`: tunnel-sync owns the box's authorized_keys (a line written by hand would be
 * overwritten), and a lease is what makes it let their key listen there. Nothing of ours carries the bytes.
 */
export async function plainTunnel(world: PairingWorld, host: Person): Promise<{ port: number; close(): Promise<void> }> {
  const lease = await host.api.request('GET', '/api/v1/pairing/port');
  if (lease.status >= 300) throw new Error(`leasing a port: ${lease.status} ${lease.text}`);
  const port = lease.json.port as number;
  await eventually(async () => (await readFile(world.box.authorizedKeysFile, 'utf8')).includes(`permitlisten="${port}"`));
  const knownHosts = join(world.dir, 'box-known-hosts');
  await writeFile(knownHosts, `[box.test]:${world.box.port} ${world.box.hostPublicKey}\n`);
  const ssh = world.host.spawn('ssh', [
    ...tunnelSshArgs(world.box, host.keyFile, knownHosts), '-o', 'ExitOnForwardFailure=yes', '-N', '-R', `${port}:127.0.0.1:22`, 'tunnel@box.test',
  ], { stdio: 'ignore' });
  const closed = new Promise((done) => ssh.once('close', done));
  // The box listens on all of this machine's addresses, loopback included.
  await eventually(() => canConnect(port));
  return { port, close: async () => { ssh.kill('SIGTERM'); await closed; } };
}

/** Echo times over one connection: greeted, left alone until the greeting is gone, warmed up, then sampled. */
async function echoSamples(path: EchoPath, guest: Person, count: number, warmUp: number): Promise<number[]> {
  const ssh = new GuestSsh(path.ns, guest, path.command, attachOptions);
  try {
    if (!(await ssh.shows(greeting))) throw new Error(`not attached through ${path.command}`);
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
 * Keystrokes typed through each path, untimed: the embedded CLI's ssh2 code runs interpreted, then
 * compiled, over its first ~2,500 keystrokes (measured: its echo p99 falls from about 2.7 ms to 1.3 ms
 * by then and stays there), as a host's CLI does in the first minutes of typing. OpenSSH has no such phase.
 */
export async function typeThrough(paths: EchoPath[], guest: Person, keystrokes: number): Promise<void> {
  for (const path of paths) await echoSamples(path, guest, 0, keystrokes);
}

/**
 * The paths take turns, a connection each per round, so load from elsewhere on the machine falls on
 * all alike. The client (the guest's key, the pinned options, `-tt`) and the far end (a tmux client
 * attached to a pane running cat) are the same for all: only the way between them differs.
 */
export async function echoTimes(paths: EchoPath[], guest: Person, options: { samples: number; rounds: number; warmUp: number }): Promise<Map<string, number[]>> {
  const times = new Map(paths.map(({ name }) => [name, [] as number[]]));
  const perConnection = Math.ceil(options.samples / options.rounds);
  for (let round = 0; round < options.rounds; round += 1) {
    for (const path of paths) times.get(path.name)!.push(...await echoSamples(path, guest, perConnection, options.warmUp));
  }
  return times;
}
