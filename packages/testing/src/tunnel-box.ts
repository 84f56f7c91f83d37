import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { canConnect, freePort } from './net.js';

const run = promisify(execFile);

export const tunnelBoxSetupScript = resolve(fileURLToPath(import.meta.url), '../../../../infra/tunnel-box/setup.sh');
const sshdBinary = '/usr/sbin/sshd';
// Not under /tmp: sshd's StrictModes wants every directory up to / root-owned
// and not group/world writable, or it ignores authorized_keys.
const boxesRoot = '/var/lib/tmuxme-test/boxes';

/** The box's accounts: hosts of public leases, hosts of private leases, guests on the jump path. */
export type TunnelBoxUser = 'tunnel' | 'tunnel-private' | 'join';

export interface TunnelBox {
  /** Where this machine reaches the box (loopback even when it listens on every address). */
  host: '127.0.0.1';
  port: number;
  dir: string;
  /** The `tunnel` user's keys: hosts of public leases. */
  authorizedKeysFile: string;
  /** The `tunnel-private` user's keys: hosts of private leases (sshd binds them to loopback). */
  privateAuthorizedKeysFile: string;
  /** The `join` user's keys: guests, each line pinned with permitopen to the sessions they may join. */
  joinAuthorizedKeysFile: string;
  /** `ssh-ed25519 AAAA…`, without a comment: what a client pins. */
  hostPublicKey: string;
  /** As `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  stop(): Promise<void>;
}

/**
 * A real tunnel box: infra/tunnel-box/setup.sh run as root with a fresh box
 * directory and its own sshd on a free loopback port. Throws (never skips)
 * when it cannot be had, so a machine without root or sshd fails loudly.
 */
export async function startTunnelBox({ port, listen = '127.0.0.1' }: { port?: number; listen?: '127.0.0.1' | '0.0.0.0' } = {}): Promise<TunnelBox> {
  if (process.getuid?.() !== 0) {
    throw new Error('the tunnel box needs root (setup.sh creates the tunnel user and starts a second sshd): run these tests as root');
  }
  if (!existsSync(sshdBinary)) {
    throw new Error(`OpenSSH's server is missing (${sshdBinary}): \`apt-get install openssh-server\`, or run \`bash infra/tunnel-box/setup.sh\` as root, which installs it`);
  }
  await mkdir(boxesRoot, { recursive: true, mode: 0o755 });
  const dir = join(boxesRoot, `${process.pid}-${randomBytes(4).toString('hex')}`);
  const boxPort = port ?? await freePort();
  const args = ['--dir', dir, '--port', String(boxPort), '--listen', listen];
  const stop = async () => {
    await setupScript(['stop', ...args]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await setupScript(args);
    const [type, blob] = (await readFile(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8')).trim().split(' ');
    const { stdout } = await run('ssh-keygen', ['-lf', join(dir, 'ssh_host_ed25519_key.pub')]);
    return {
      host: '127.0.0.1',
      port: boxPort,
      dir,
      authorizedKeysFile: join(dir, 'authorized_keys'),
      privateAuthorizedKeysFile: join(dir, 'private_authorized_keys'),
      joinAuthorizedKeysFile: join(dir, 'join_authorized_keys'),
      hostPublicKey: `${type} ${blob}`,
      hostKeyFingerprint: stdout.split(' ')[1]!,
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

async function setupScript(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('bash', [tunnelBoxSetupScript, ...args], { timeout: 60_000 });
    return stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`infra/tunnel-box/setup.sh ${args.join(' ')} failed: ${stderr?.trim() || message}`);
  }
}

const keysFileOf = {
  tunnel: 'authorizedKeysFile',
  'tunnel-private': 'privateAuthorizedKeysFile',
  join: 'joinAuthorizedKeysFile',
} as const satisfies Record<TunnelBoxUser, keyof TunnelBox>;

/**
 * Replaces one of the box's key files (the `tunnel` user's unless `user` says
 * otherwise) the way tunnel-sync must: a temp file in the same directory,
 * fsync, root:tunnel 0640, rename, fsync the directory, so sshd (which re-reads
 * it on every login) never sees half a file.
 */
export async function writeAuthorizedKeys(
  box: Pick<TunnelBox, 'authorizedKeysFile'> & Partial<Pick<TunnelBox, 'privateAuthorizedKeysFile' | 'joinAuthorizedKeysFile'>>,
  lines: readonly string[],
  { user = 'tunnel' }: { user?: TunnelBoxUser } = {},
): Promise<void> {
  const target = box[keysFileOf[user]];
  if (!target) throw new Error(`this box has no key file for the ${user} user`);
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const { stdout } = await run('getent', ['group', 'tunnel']);
  const gid = Number(stdout.split(':')[2]);
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writeFile(lines.map((line) => `${line}\n`).join(''));
    await file.sync();
  } finally {
    await file.close();
  }
  await chown(temp, 0, gid);
  await chmod(temp, 0o640);
  await rename(temp, target);
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** The box's key as a known_hosts line (a non-22 port is written `[host]:port`). */
export function knownHostsLine(box: Pick<TunnelBox, 'host' | 'port' | 'hostPublicKey'>): string {
  return `[${box.host}]:${box.port} ${box.hostPublicKey}\n`;
}

/**
 * The ssh options every client of the box should use: only this key, no
 * prompt, and the box's pinned host key. `-F none` keeps the machine's and
 * root's ssh_config (SendEnv, agents, other keys) out of the tests.
 */
export function tunnelSshArgs(box: Pick<TunnelBox, 'port'>, privateKeyPath: string, knownHostsFile: string): string[] {
  return [
    '-F', 'none', '-p', String(box.port), '-i', privateKeyPath,
    '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'ConnectTimeout=10',
  ];
}

export interface ReverseTunnelOptions {
  box: TunnelBox;
  privateKeyPath: string;
  /** The port to listen on at the box (what the key's permitlisten must allow). */
  remotePort: number;
  /** The box account to log in as: `tunnel-private` for a private lease. */
  user?: Exclude<TunnelBoxUser, 'join'>;
  /**
   * The bind address -R asks for (`0.0.0.0`, `127.0.0.1`, `::1`, `*`, `''`);
   * left out, a bare `-R PORT:…` as the seed's command sends. Only a request:
   * the user's GatewayPorts decides.
   */
  bindAddress?: string;
  /** Where connections to the remote port go, as seen from this machine. */
  target: { host: string; port: number };
  timeoutMs?: number;
}

export interface ReverseTunnel {
  close(): Promise<void>;
}

/**
 * The real `ssh -N -R` a host runs. Resolves once the box accepts connections
 * on remotePort (one probe connection reaches the target); rejects with ssh's
 * stderr when ssh exits first, e.g. on a refused key or port.
 */
export async function openReverseTunnel({
  box, privateKeyPath, remotePort, target, user = 'tunnel', bindAddress, timeoutMs = 10_000,
}: ReverseTunnelOptions): Promise<ReverseTunnel> {
  // A forward bound to ::1 alone (asked for, on loopback-only tunnel-private) answers there only.
  const listening = async () => await canConnect(remotePort) || await canConnect(remotePort, '::1');
  // A listener already there would look like our forward.
  if (await listening()) throw new Error(`port ${remotePort} is already in use on loopback: a reverse tunnel there cannot be told apart`);
  const bind = bindAddress === undefined ? '' : `${bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress}:`;
  const knownHostsDir = await mkdtemp(join(tmpdir(), 'tmuxme-box-known-hosts-'));
  const knownHostsFile = join(knownHostsDir, 'known_hosts');
  await writeFile(knownHostsFile, knownHostsLine(box));
  const child = spawn('ssh', [
    ...tunnelSshArgs(box, privateKeyPath, knownHostsFile),
    '-o', 'ExitOnForwardFailure=yes', '-N', '-R', `${bind}${remotePort}:${target.host}:${target.port}`, `${user}@${box.host}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let failure: Error | undefined;
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  child.once('error', (error) => { failure = error; });
  // 'close', not 'exit': by then all of ssh's stderr has been read.
  child.once('close', (code, signal) => { failure ??= new Error(`ssh -R ${remotePort} exited (${code ?? signal}): ${stderr.trim()}`); });
  const close = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await gone;
    }
    await rm(knownHostsDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  try {
    while (!(await listening())) {
      if (failure) throw failure;
      if (Date.now() > deadline) throw new Error(`ssh -R ${remotePort} did not listen within ${timeoutMs} ms: ${stderr.trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { close };
}

export interface JumpConnectOptions {
  box: Pick<TunnelBox, 'host' | 'port' | 'hostPublicKey'>;
  /** The guest's key, as listed in the join user's file. */
  privateKeyPath: string;
  /** What -W asks the box to open, e.g. `127.0.0.1:24624`: the literal string the key's permitopen must hold. */
  target: string;
  /** Written to the channel, then the guest's side is closed. */
  send?: string;
  /** The account to log in as; `join` unless a test tries another. */
  user?: TunnelBoxUser;
  /** More ssh options (before the destination), e.g. `['-A']` or `['-o', 'ForwardX11=yes']`. */
  extraArgs?: string[];
  timeoutMs?: number;
}

/**
 * The channel a guest's `ssh -J join@box` opens: the real `ssh -W target
 * join@box`, with `send` written into it. Resolves with what came back once the
 * far end closes (or, for a server that keeps talking, when timeoutMs passes
 * with something received); rejects with ssh's stderr when the box refuses,
 * e.g. "Permission denied (publickey)" or "administratively prohibited".
 */
export async function jumpConnect({
  box, privateKeyPath, target, send = '', user = 'join', extraArgs = [], timeoutMs = 10_000,
}: JumpConnectOptions): Promise<string> {
  const knownHostsDir = await mkdtemp(join(tmpdir(), 'tmuxme-box-known-hosts-'));
  const knownHostsFile = join(knownHostsDir, 'known_hosts');
  await writeFile(knownHostsFile, knownHostsLine(box));
  try {
    const child = spawn('ssh', [...tunnelSshArgs(box, privateKeyPath, knownHostsFile), ...extraArgs, '-W', target, `${user}@${box.host}`]);
    let received = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { received += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
    child.stdin.on('error', () => {}); // ssh refused and exited before reading it
    child.stdin.end(send);
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGTERM'); }, timeoutMs);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
      child.once('error', fail);
      child.once('close', (exitCode, exitSignal) => done([exitCode, exitSignal]));
    }).finally(() => clearTimeout(timer));
    if (code === 0 || (timedOut && received !== '')) return received;
    throw new Error(`ssh -W ${target} ${user}@box ${timedOut ? `timed out after ${timeoutMs} ms` : `exited (${code ?? signal})`}: ${stderr.trim()}`);
  } finally {
    await rm(knownHostsDir, { recursive: true, force: true });
  }
}
