import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort, openReverseTunnel, startTunnelBox, waitForPort, writeAuthorizedKeys, type ReverseTunnel, type TunnelBox } from '@tmuxme/testing';
import {
  eventually, exchange, holdBanner as banner, keyFile, killChildren, runSsh, sshTo, startEchoServer, startSsh, stopChild, tunnelKeyLine,
  type EchoServer, type KeyFile,
} from './helpers.js';

let box: TunnelBox;
let work: string;
let echo: EchoServer;
// alice leases alicePort; bob has no line at all; carol's line is removed mid-suite.
let alice: KeyFile;
let bob: KeyFile;
let carol: KeyFile;
let alicePort: number;
let carolPort: number;
const tunnels: ReverseTunnel[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-tunnel-box-test-'));
  [box, echo, alice, bob, carol, alicePort, carolPort] = await Promise.all([
    startTunnelBox(), startEchoServer(), keyFile(work, 'alice'), keyFile(work, 'bob'), keyFile(work, 'carol'), freePort(), freePort(),
  ]);
  await writeAuthorizedKeys(box, [tunnelKeyLine(alice, alicePort, 'u-alice', 'k1'), tunnelKeyLine(carol, carolPort, 'u-carol', 'k2')]);
});

afterAll(async () => {
  await Promise.allSettled(tunnels.map((tunnel) => tunnel.close()));
  await killChildren();
  await box?.stop();
  await echo?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function tunnel(key: KeyFile, remotePort: number): Promise<ReverseTunnel> {
  const opened = await openReverseTunnel({ box, privateKeyPath: key.path, remotePort, target: { host: '127.0.0.1', port: echo.port } });
  tunnels.push(opened);
  return opened;
}

describe('the leased port', () => {
  test('forwards to its target, and data round-trips', async () => {
    const forward = await tunnel(alice, alicePort);
    expect(await exchange(alicePort, 'hello through the box\n')).toBe('hello through the box\n');
    await forward.close();
    expect(await canConnect(alicePort)).toBe(false);
  });

  test('is the only port the key may listen on', async () => {
    const otherPort = await freePort();
    await expect(tunnel(alice, otherPort)).rejects.toThrow(`remote port forwarding failed for listen port ${otherPort}`);
    expect(await canConnect(otherPort)).toBe(false);
  });
});

describe('authentication', () => {
  test('a key that is not in the file is refused', async () => {
    const result = await runSsh([...await sshTo(box, work, bob), '-N', '-R', `${alicePort}:127.0.0.1:${echo.port}`, 'tunnel@127.0.0.1']);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('Permission denied (publickey)');
    expect(await canConnect(alicePort)).toBe(false);
  });

  test('a key removed from the file is refused on its next connection, with no reload', async () => {
    const open = await tunnel(carol, carolPort);
    await writeAuthorizedKeys(box, [tunnelKeyLine(alice, alicePort, 'u-alice', 'k1')]);
    await expect(tunnel(carol, await freePort())).rejects.toThrow('Permission denied (publickey)');
    // sshd checks keys at login only: ending a live tunnel is tunnel-sync's job, not the file's.
    expect(await exchange(carolPort, 'still up\n')).toBe('still up\n');
    await open.close();
  });

  test.each([
    ['password', 'password'],
    ['keyboard-interactive', 'keyboard-interactive'],
  ])('%s authentication is not offered', async (_name, method) => {
    const result = await runSsh([
      '-F', 'none', '-p', String(box.port), '-o', `PreferredAuthentications=${method}`, '-o', 'PubkeyAuthentication=no',
      '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', 'tunnel@127.0.0.1', 'true',
    ]);
    expect(result.code).toBe(255);
    // The parenthesis lists every method the server would still accept.
    expect(result.stderr).toContain('tunnel@127.0.0.1: Permission denied (publickey).');
  });

  test('no account but tunnel may log in, even with a listed key', async () => {
    const result = await runSsh([...await sshTo(box, work, alice), 'root@127.0.0.1', 'id']);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('Permission denied (publickey)');
    expect(result.stdout).toBe('');
  });
});

describe('anything but -R on the leased port', () => {
  test.each([
    ['a command', ['id'], 'id\n'],
    ['a shell', [], 'id\necho escaped\n'],
  ])('%s gets only the forced command', async (_name, request, input) => {
    const args = await sshTo(box, work, alice);
    const result = await runSsh([...args, '-T', 'tunnel@127.0.0.1', ...request], input);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(banner);
    expect(result.stdout).toBe('');
    expect(result.stdout + result.stderr).not.toMatch(/uid=|escaped/);
  });

  test('a subsystem (sftp) is refused', async () => {
    // ForceCommand would only apply to a subsystem sshd knows; the box defines none.
    const result = await runSsh([...await sshTo(box, work, alice), '-T', '-s', 'tunnel@127.0.0.1', 'sftp']);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('subsystem request failed');
    expect(result.stdout).toBe('');
  });

  test('a pty is refused', async () => {
    // -tt: stdin is a pipe here, and plain -t would not even ask for a pty.
    const result = await runSsh([...await sshTo(box, work, alice), '-tt', 'tunnel@127.0.0.1', 'id'], 'id\n');
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('PTY allocation request failed');
    expect(result.stdout + result.stderr).not.toContain('uid=');
  });

  test('-L is refused: nothing reaches the target', async () => {
    const localPort = await freePort();
    const before = echo.connections;
    const ssh = startSsh([...await sshTo(box, work, alice), '-N', '-L', `${localPort}:127.0.0.1:${echo.port}`, 'tunnel@127.0.0.1']);
    ssh.child.stdin!.end();
    try {
      await waitForPort(localPort, 10_000); // ssh's own listener, on this side
      expect(await exchange(localPort, 'ping\n')).toBe('');
      await eventually(() => ssh.output().stderr.includes('administratively prohibited'));
      expect(echo.connections).toBe(before);
    } finally {
      await stopChild(ssh.child);
    }
  });

  test('-W is refused: nothing reaches the target', async () => {
    const before = echo.connections;
    const result = await runSsh([...await sshTo(box, work, alice), '-W', `127.0.0.1:${echo.port}`, 'tunnel@127.0.0.1'], 'ping\n');
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('administratively prohibited');
    expect(result.stdout).toBe('');
    expect(echo.connections).toBe(before);
  });

  test('-R of a Unix socket is refused: no socket appears', async () => {
    // In /tmp itself, where the tunnel user could create it if sshd let it.
    const socketPath = `/tmp/tmuxme-box-${randomBytes(4).toString('hex')}.sock`;
    const result = await runSsh([
      ...await sshTo(box, work, alice), '-N', '-o', 'ExitOnForwardFailure=yes', '-R', `${socketPath}:127.0.0.1:${echo.port}`, 'tunnel@127.0.0.1',
    ]);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain(`remote port forwarding failed for listen path ${socketPath}`);
    expect(existsSync(socketPath)).toBe(false);
  });
});
