import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from '@tmuxme/testing';

const run = promisify(execFile);

export interface HostSshd {
  port: number;
  /** A known_hosts file pinning this sshd's key. */
  knownHostsFile: string;
  /** What sshd logged so far (-e): why a login was refused. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * The host machine's sshd in seed mode, with the `Match User tmuxme` block
 * docs/architecture.md §6 recommends, for `user` only, on its own loopback port. A
 * child of the test (sshd -D), so the test ends it by its pid.
 */
export async function startHostSshd(user: string): Promise<HostSshd> {
  if (process.getuid?.() !== 0) throw new Error('a test sshd needs root: run these tests as root');
  const dir = await mkdtemp(join(tmpdir(), 'tmuxme-host-sshd-'));
  const port = await freePort();
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const config = join(dir, 'sshd_config');
  await writeFile(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, 'PidFile none',
    `AllowUsers ${user}`, 'AuthorizedKeysFile .ssh/authorized_keys', 'StrictModes yes',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'LogLevel VERBOSE',
    `Match User ${user}`,
    '  AuthenticationMethods publickey', '  DisableForwarding yes', '  PermitTunnel no', '  PermitUserRC no', '  PermitTTY yes',
  ].join('\n') + '\n');
  const knownHostsFile = join(dir, 'known_hosts');
  const [type, blob] = (await readFile(`${hostKey}.pub`, 'utf8')).split(' ');
  await writeFile(knownHostsFile, `[127.0.0.1]:${port} ${type} ${blob}\n`);
  // Privilege separation needs it; the machine's init script would make it at boot.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const sshd: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  sshd.stderr!.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  const stop = async () => {
    if (sshd.exitCode === null && sshd.signalCode === null) {
      const gone = new Promise((done) => sshd.once('exit', done));
      sshd.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 10_000);
  } catch (error) {
    await stop();
    throw new Error(`the test sshd did not listen: ${(error as Error).message}\n${log}`);
  }
  return { port, knownHostsFile, log: () => log, stop };
}

export interface GuestLogin {
  /** The guest's keystrokes. */
  type(text: string): void;
  /** Everything the guest's terminal received. */
  screen(): string;
  exited: Promise<number | null>;
  end(): Promise<void>;
}

/** A guest's `ssh -tt` into the host with their private key, as their join command would do it. */
export function loginAsGuest(sshd: HostSshd, user: string, privateKeyPath: string): GuestLogin {
  const child = spawn('ssh', [
    '-tt', '-F', 'none', '-i', privateKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${sshd.knownHostsFile}`, '-p', String(sshd.port), `${user}@127.0.0.1`,
  ], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm-256color' } });
  let screen = '';
  child.stdout!.on('data', (chunk: Buffer) => { screen += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { screen += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    type: (text) => child.stdin!.write(text),
    screen: () => screen,
    exited,
    async end() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
