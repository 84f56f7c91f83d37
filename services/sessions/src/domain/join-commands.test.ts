import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, generateSshKey, waitForPort, type GeneratedKey } from '@tmuxme/testing';
import { parseHostKey } from './host-key.js';
import { pinnedJoinCommand } from './join-commands.js';

/**
 * The pinned join command as a guest pastes it, run by the real ssh client (through sh, quotes and all)
 * against a real sshd: it gets past host key checking with the declared key, and with no other.
 */
const sshdPath = '/usr/sbin/sshd';
const available = existsSync(sshdPath);
if (!available && process.env.CI === 'true') throw new Error(`${sshdPath} is missing; install openssh-server`);
if (!available) console.warn(`${sshdPath} is missing; the pinned join command is not exercised here`);
let sshd: ChildProcess | undefined;
let dir: string;
let port: number;
let hostKey: GeneratedKey;

beforeAll(async () => {
  if (!available) return;
  dir = await mkdtemp(join(tmpdir(), 'tmuxme-sshd-'));
  hostKey = await generateSshKey('ed25519');
  await writeFile(join(dir, 'host_key'), hostKey.privateKey, { mode: 0o600 });
  port = await freePort();
  sshd = spawn(sshdPath, ['-D', '-e', '-f', '/dev/null', '-h', join(dir, 'host_key'), '-p', String(port), '-o', 'ListenAddress=127.0.0.1', '-o', 'PidFile=none'], { stdio: 'ignore' });
  await waitForPort(port, 10_000);
});
afterAll(async () => {
  sshd?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What ssh says on stderr; no user key is offered, so at best it reaches authentication and is refused. */
function runJoinCommand(hostKeyLine: string): Promise<string> {
  const command = `${pinnedJoinCommand({ tunnelHost: '127.0.0.1', port }, hostKeyLine)} -F /dev/null -o BatchMode=yes -o ConnectTimeout=5 true`;
  return new Promise((resolve) => execFile('sh', ['-c', command], (_error, _stdout, stderr) => resolve(stderr)));
}

(available ? describe : describe.skip)('the pinned join command against a real sshd', () => {
  it('trusts the declared host key', async () => {
    const stderr = await runJoinCommand(parseHostKey(hostKey.publicKey).line);
    expect(stderr).toContain('Permission denied');
    expect(stderr).not.toContain('Host key verification failed');
  });

  it('refuses any other key, and never asks to trust one', async () => {
    const stderr = await runJoinCommand(parseHostKey((await generateSshKey('ed25519')).publicKey).line);
    expect(stderr).toContain('Host key verification failed');
    expect(stderr).not.toContain('Permission denied');
  });
});
