import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, freePort, generateSshKey, waitForPort } from '@tmuxme/testing';

const run = promisify(execFile);
const sshdPath = '/usr/sbin/sshd';

/**
 * The accounts a join command logs into (`join` on the box, `tmuxme` at the host), as this machine's
 * sshd cannot have them: each sshd runs in its own mount namespace, where these files stand in for
 * /etc/passwd and /etc/shadow. Everything else (the privilege separation user among it) stays as it is.
 */
const accounts = ['join', 'tmuxme'];

export interface Sshd {
  port: number;
  /** `type base64`, as a join command pins it. */
  hostKeyLine: string;
  /** What it said on stderr, for a failing test to show. */
  log(): string;
}

/** Real sshds taking the guest key below for `join` and `tmuxme`, and an agent holding that key for every ssh. */
export interface SshWorld {
  start(): Promise<Sshd>;
  /** `sh -c command`, as a guest's shell runs what they pasted; never throws. */
  sh(command: string): Promise<{ code: number; stdout: string; stderr: string }>;
  dir: string;
  stop(): Promise<void>;
}

export async function sshWorld(): Promise<SshWorld> {
  if (!existsSync(sshdPath)) throw new Error(`${sshdPath} is missing; install openssh-server`);
  if (process.getuid?.() !== 0) throw new Error('these tests start sshd in a mount namespace of its own: run them as root');
  // sshd will not start without its privilege separation directory, which only a booted machine has.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), 'tmuxme-join-'));
  // The sshds read authorized_keys as the logging-in user.
  await chmod(dir, 0o755);
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children) child.kill();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const guest = await generateSshKey('ed25519', undefined, 'guest@laptop');
    await writeFile(join(dir, 'authorized_keys'), guest.publicKey, { mode: 0o644 });
    await writeFile(join(dir, 'guest_key'), guest.privateKey, { mode: 0o600 });
    const others = (await readFile('/etc/passwd', 'utf8')).split('\n').filter((line) => line && !accounts.some((name) => line.startsWith(`${name}:`)));
    await writeFile(join(dir, 'passwd'), [...others, ...accounts.map((name, i) => `${name}:x:${64_201 + i}:${64_201 + i}::/:/bin/sh`), ''].join('\n'), { mode: 0o644 });
    await writeFile(join(dir, 'shadow'), accounts.map((name) => `${name}:*:19000:0:99999:7:::\n`).join(''), { mode: 0o600 });

    const agentSocket = join(dir, 'agent.sock');
    children.push(spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' }));
    await eventually(() => existsSync(agentSocket), 10_000);
    const env = { ...process.env, SSH_AUTH_SOCK: agentSocket };
    await run('ssh-add', ['-q', join(dir, 'guest_key')], { env });

    let started = 0;
    const start = async (): Promise<Sshd> => {
      const hostKey = await generateSshKey('ed25519');
      const keyFile = join(dir, `host_key_${started += 1}`);
      await writeFile(keyFile, hostKey.privateKey, { mode: 0o600 });
      const port = await freePort();
      const sshd = [sshdPath, '-D', '-e', '-f', '/dev/null', '-h', keyFile, '-p', String(port), '-o', 'ListenAddress=127.0.0.1', '-o', 'PidFile=none',
        '-o', `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`, '-o', 'StrictModes=no', '-o', 'UsePAM=no',
        '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no'];
      const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        'mount --bind "$0" /etc/passwd && mount --bind "$1" /etc/shadow && shift && exec "$@"', join(dir, 'passwd'), join(dir, 'shadow'), ...sshd,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let log = '';
      child.stderr!.on('data', (chunk: Buffer) => { log = (log + chunk.toString()).slice(-8000); });
      await waitForPort(port, 10_000);
      const [type, blob] = hostKey.publicKey.split(' ');
      return { port, hostKeyLine: `${type} ${blob}`, log: () => log };
    };

    const sh = (command: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('sh', ['-c', command], { env, timeout: 20_000 }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    });
    return { start, sh, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
