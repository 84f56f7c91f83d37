import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort, jumpConnect, startTunnelBox, waitForPort, writeAuthorizedKeys, type TunnelBox } from '@tmuxme/testing';
import {
  boxLog, eventually, exchange, holdBanner, joinKeyLine, keyFile, killChildren, machineAddress, runSsh, sessionEnvironments, sshTo, startEchoServer,
  startSsh, stopChild, tunnelKeyLine, type EchoServer, type KeyFile,
} from './helpers.js';

// Each echo server stands for a host's forward on the box's loopback: sessions
// A and B are the guest's, C is someone else's, `unlisted` nobody's.
let box: TunnelBox;
let work: string;
let sessionA: EchoServer;
let sessionB: EchoServer;
let sessionC: EchoServer;
let unlisted: EchoServer;
// Session A's port again on the other loopback addresses: what a guest could
// reach if sshd matched anything looser than the literal 127.0.0.1:A.
let aliasesOfA: EchoServer[];
let guest: KeyFile;
let straying: KeyFile;
let stranger: KeyFile;
let host: KeyFile;
const servers: EchoServer[] = [];

const at = (server: EchoServer, address = '127.0.0.1') => `${address}:${server.port}`;
const reached = () => servers.reduce((sum, server) => sum + server.connections, 0);
const joinLines = () => [
  joinKeyLine(guest, [at(sessionA), at(sessionB)], 'u-guest', 'k1'),
  // A line that names what the config's PermitOpen 127.0.0.1:* must still refuse.
  joinKeyLine(straying, [at(sessionA, '127.0.0.2'), `localhost:${sessionA.port}`, at(sessionA, '[::1]')], 'u-straying', 'k2'),
];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-join-user-test-'));
  [box, sessionA, sessionB, sessionC, unlisted, guest, straying, stranger, host] = await Promise.all([
    startTunnelBox(), startEchoServer(), startEchoServer(), startEchoServer(), startEchoServer(),
    keyFile(work, 'guest'), keyFile(work, 'straying'), keyFile(work, 'stranger'), keyFile(work, 'host'),
  ]);
  aliasesOfA = await Promise.all([startEchoServer({ host: '127.0.0.2', port: sessionA.port }), startEchoServer({ host: '::1', port: sessionA.port })]);
  servers.push(sessionA, sessionB, sessionC, unlisted, ...aliasesOfA);
  await writeAuthorizedKeys(box, joinLines(), { user: 'join' });
  await writeAuthorizedKeys(box, [tunnelKeyLine(host, sessionC.port, 'u-host', 'k3')]);
});

afterAll(async () => {
  await killChildren();
  await box?.stop();
  await Promise.allSettled(servers.map((server) => server.close()));
  if (work) await rm(work, { recursive: true, force: true });
});

const jump = (key: KeyFile, target: string, extra: Partial<Parameters<typeof jumpConnect>[0]> = {}) =>
  jumpConnect({ box, privateKeyPath: key.path, target, send: 'ping\n', ...extra });

describe('a guest through the join user', () => {
  test('reaches a session its line names, with -W as ssh -J does', async () => {
    expect(await jump(guest, at(sessionA))).toBe('ping\n');
  });

  test('reaches both sessions when one line holds two permitopen', async () => {
    const before = sessionB.connections;
    expect(await jump(guest, at(sessionB))).toBe('ping\n');
    expect(sessionB.connections).toBe(before + 1);
  });

  test.each([
    ['a port its line does not name', () => at(unlisted)],
    ["another session's port", () => at(sessionC)],
    ["the machine's own sshd (127.0.0.1:22)", () => '127.0.0.1:22'],
    ["the box's own sshd", () => `127.0.0.1:${box.port}`],
    ['localhost, a name, for 127.0.0.1 (permitopen does no lookup)', () => `localhost:${sessionA.port}`],
    ['another loopback address', () => at(sessionA, '127.0.0.2')],
    ['IPv6 loopback', () => at(sessionA, '[::1]')],
    ['the wildcard address', () => at(sessionA, '0.0.0.0')],
    // Still a local address: without one, a loopback address no permitopen names.
    ["the machine's non-loopback address", () => at(sessionA, machineAddress() ?? '127.0.0.3')],
  ])('is refused %s, and nothing is reached', async (_name, target) => {
    const before = reached();
    // "administratively prohibited" is sshd's no; a port it tried would say "connect failed".
    await expect(jump(guest, target())).rejects.toThrow(/administratively prohibited[^]*stdio forwarding failed/);
    expect(reached()).toBe(before);
    const [, address, port] = /^\[?(.+?)\]?:(\d+)$/.exec(target())!;
    expect(await boxLog(box)).toContain(`to connect to host ${address} port ${port}, but the request was denied`);
  });

  test('is refused off loopback even when its key line names it: the config pins 127.0.0.1', async () => {
    const before = reached();
    for (const target of [at(sessionA, '127.0.0.2'), `localhost:${sessionA.port}`, at(sessionA, '[::1]')]) {
      await expect(jump(straying, target)).rejects.toThrow('administratively prohibited');
    }
    expect(reached()).toBe(before);
  });

  test('an uninvited key gets no login at all', async () => {
    const before = reached();
    await expect(jump(stranger, at(sessionA))).rejects.toThrow('Permission denied (publickey)');
    expect(reached()).toBe(before);
  });

  test("a host's tunnel key is no guest key: refused as join", async () => {
    await expect(jump(host, at(sessionC))).rejects.toThrow('Permission denied (publickey)');
  });

  test('a guest key cannot log in as tunnel or tunnel-private, so it binds nothing', async () => {
    for (const user of ['tunnel', 'tunnel-private']) {
      const result = await runSsh([...await sshTo(box, work, guest), '-N', '-R', `${unlisted.port}:127.0.0.1:1`, `${user}@127.0.0.1`]);
      expect(result.stderr).toContain('Permission denied (publickey)');
    }
  });

  test('a session dropped from the line, then the line itself, close the way in on the next connection', async () => {
    try {
      await writeAuthorizedKeys(box, [joinKeyLine(guest, [at(sessionA)], 'u-guest', 'k1')], { user: 'join' });
      await expect(jump(guest, at(sessionB))).rejects.toThrow('administratively prohibited');
      expect(await jump(guest, at(sessionA))).toBe('ping\n');
      await writeAuthorizedKeys(box, [], { user: 'join' });
      await expect(jump(guest, at(sessionA))).rejects.toThrow('Permission denied (publickey)');
    } finally {
      await writeAuthorizedKeys(box, joinLines(), { user: 'join' });
    }
  });
});

describe('the join user never', () => {
  test.each([
    ['a command', ['id'], 'id\n'],
    ['a shell', [], 'id\necho escaped\n'],
  ])('runs %s: only the forced command', async (_name, request, input) => {
    const result = await runSsh([...await sshTo(box, work, guest), '-T', 'join@127.0.0.1', ...request], input);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(holdBanner);
    expect(result.stdout).toBe('');
    expect(result.stdout + result.stderr).not.toMatch(/uid=|escaped/);
  });

  test('gives a pty', async () => {
    const result = await runSsh([...await sshTo(box, work, guest), '-tt', 'join@127.0.0.1', 'id'], 'id\n');
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('PTY allocation request failed');
    expect(result.stdout + result.stderr).not.toContain('uid=');
  });

  test('runs a subsystem (sftp)', async () => {
    const result = await runSsh([...await sshTo(box, work, guest), '-T', '-s', 'join@127.0.0.1', 'sftp']);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('subsystem request failed');
  });

  test('forwards remotely (-R), not even a port its line names', async () => {
    const port = await freePort();
    const result = await runSsh([...await sshTo(box, work, guest), '-N', '-o', 'ExitOnForwardFailure=yes', '-R', `${port}:127.0.0.1:1`, 'join@127.0.0.1']);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain(`remote port forwarding failed for listen port ${port}`);
    expect(await canConnect(port)).toBe(false);
  });

  test('forwards the agent or X11', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tmuxme-join-agent-'));
    const agentSocket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    const ssh = startSsh([...await sshTo(box, work, guest), '-A', '-Y', 'join@127.0.0.1'], { ...process.env, SSH_AUTH_SOCK: agentSocket, DISPLAY: ':77' });
    try {
      await eventually(() => ssh.output().stderr.includes(holdBanner), 10_000);
      expect(ssh.output().stderr).toContain('X11 forwarding request failed');
      // The session's processes: sshd would have handed them SSH_AUTH_SOCK and DISPLAY.
      const sessions = await sessionEnvironments(box);
      expect(sessions.length).toBeGreaterThan(0);
      for (const env of sessions) expect([env.has('SSH_AUTH_SOCK'), env.has('DISPLAY')]).toEqual([false, false]);
    } finally {
      await stopChild(ssh.child);
      agent.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('listens on a Unix socket (-R /path)', async () => {
    const socketPath = join(tmpdir(), `tmuxme-join-${process.pid}-${Date.now()}.sock`);
    const result = await runSsh([...await sshTo(box, work, guest), '-N', '-o', 'ExitOnForwardFailure=yes', '-R', `${socketPath}:${at(sessionA)}`, 'join@127.0.0.1']);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain(`remote port forwarding failed for listen path ${socketPath}`);
    expect(existsSync(socketPath)).toBe(false);
  });

  test('connects to a Unix socket on the box (-L port:/path)', async () => {
    // World-connectable, so only sshd's refusal keeps the join user away from it.
    const dir = await mkdtemp(join(tmpdir(), 'tmuxme-join-socket-'));
    const socketPath = join(dir, 'service.sock');
    let accepted = 0;
    const service: Server = createServer((socket) => { accepted += 1; socket.end('secret\n'); });
    await new Promise<void>((resolve) => service.listen(socketPath, resolve));
    await chmod(dir, 0o755);
    await chmod(socketPath, 0o777);
    const localPort = await freePort();
    const ssh = startSsh([...await sshTo(box, work, guest), '-N', '-L', `${localPort}:${socketPath}`, 'join@127.0.0.1']);
    ssh.child.stdin!.end();
    try {
      await waitForPort(localPort, 10_000); // ssh's own listener, on this side
      expect(await exchange(localPort, 'ping\n')).toBe('');
      await eventually(() => ssh.output().stderr.includes('open failed'));
      expect(accepted).toBe(0);
      expect(await boxLog(box)).toContain(`refused streamlocal port forward: originator 127.0.0.1 port`);
    } finally {
      await stopChild(ssh.child);
      await new Promise((resolve) => service.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
