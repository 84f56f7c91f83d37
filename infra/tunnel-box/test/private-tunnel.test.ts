import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canConnect, freePort, jumpConnect, listeningAddresses, openReverseTunnel, startTunnelBox, writeAuthorizedKeys, type ReverseTunnel, type TunnelBox,
} from '@tmuxme/testing';
import {
  holdBanner, joinKeyLine, keyFile, killChildren, machineAddress, runSsh, sshTo, startEchoServer, type EchoServer, type KeyFile,
} from './helpers.js';

// What a host's client may ask -R to bind. The box's answer must not depend on it.
const requests: [string, string | undefined][] = [
  ['a bare -R PORT:… (the seed)', undefined],
  ['0.0.0.0', '0.0.0.0'],
  ['* (every address)', '*'],
  ["'' (every address)", ''],
  ['[::] (every IPv6 address)', '::'],
  ['127.0.0.1', '127.0.0.1'],
  ['localhost', 'localhost'],
  // Binding (not sending) on it is all this does; without one, another loopback address.
  ["the machine's non-loopback address", machineAddress() ?? '127.0.0.3'],
];

let box: TunnelBox;
let work: string;
let echo: EchoServer;
let privateHost: KeyFile;
let publicHost: KeyFile;
let guest: KeyFile;
// One leased port per request, for each kind of lease: a closed forward's port
// can linger, and each case must start from nothing listening.
let privatePorts: number[];
let publicPorts: number[];
const tunnels: ReverseTunnel[] = [];

/** The key line tunnel-sync writes, with one permitlisten per port (sshd uses one line per key). */
const hostLine = (key: KeyFile, ports: number[], userId: string) =>
  `restrict,port-forwarding,${ports.map((port) => `permitlisten="${port}",`).join('')}command="/usr/local/bin/tunnel-hold" ${key.publicKey} tmuxme:${userId}:k1`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-private-tunnel-test-'));
  [box, echo, privateHost, publicHost, guest] = await Promise.all([
    startTunnelBox(), startEchoServer(), keyFile(work, 'private-host'), keyFile(work, 'public-host'), keyFile(work, 'guest'),
  ]);
  privatePorts = await Promise.all(requests.map(() => freePort()));
  publicPorts = await Promise.all(requests.map(() => freePort()));
  await Promise.all([
    writeAuthorizedKeys(box, [hostLine(privateHost, privatePorts, 'u-private')], { user: 'tunnel-private' }),
    writeAuthorizedKeys(box, [hostLine(publicHost, publicPorts, 'u-public')]),
    writeAuthorizedKeys(box, [joinKeyLine(guest, [...privatePorts, ...publicPorts].map((port) => `127.0.0.1:${port}`), 'u-guest', 'k2')], { user: 'join' }),
  ]);
});

afterAll(async () => {
  await Promise.allSettled(tunnels.map((tunnel) => tunnel.close()));
  await killChildren();
  await box?.stop();
  await echo?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function tunnel(key: KeyFile, user: 'tunnel' | 'tunnel-private', remotePort: number, bindAddress?: string): Promise<ReverseTunnel> {
  const opened = await openReverseTunnel({ box, privateKeyPath: key.path, user, remotePort, bindAddress, target: { host: '127.0.0.1', port: echo.port } });
  tunnels.push(opened);
  return opened;
}

describe('a private lease (tunnel-private, GatewayPorts no)', () => {
  test.each(requests.map(([name, bind], i) => [name, bind, i] as const))('asked for %s, listens on loopback only; a guest reaches it through join', async (_name, bind, i) => {
    const port = privatePorts[i]!;
    const forward = await tunnel(privateHost, 'tunnel-private', port, bind);
    try {
      const addresses = await listeningAddresses(port);
      expect(addresses).toContain('127.0.0.1');
      expect(addresses.every((address) => address === '127.0.0.1' || address === '[::1]')).toBe(true);
      expect(await canConnect(port, machineAddress() ?? '127.0.0.3')).toBe(false);
      expect(await jumpConnect({ box, privateKeyPath: guest.path, target: `127.0.0.1:${port}`, send: 'private hello\n' })).toBe('private hello\n');
    } finally {
      await forward.close();
    }
  });

  test('binds only the ports its line names', async () => {
    const other = await freePort();
    await expect(tunnel(privateHost, 'tunnel-private', other, '127.0.0.1')).rejects.toThrow(`remote port forwarding failed for listen port ${other}`);
    expect(await listeningAddresses(other)).toEqual([]);
  });

  test('a key in the private file alone cannot log in as tunnel, so it cannot bind publicly', async () => {
    const port = privatePorts[0]!;
    await expect(tunnel(privateHost, 'tunnel', port, '0.0.0.0')).rejects.toThrow('Permission denied (publickey)');
    expect(await listeningAddresses(port)).toEqual([]);
  });

  test('gets only the forced command, and no -W either', async () => {
    const args = await sshTo(box, work, privateHost);
    const login = await runSsh([...args, '-T', 'tunnel-private@127.0.0.1', 'id']);
    expect(login).toMatchObject({ code: 0, stdout: '' });
    expect(login.stderr).toContain(holdBanner);
    const before = echo.connections;
    const channel = await runSsh([...args, '-W', `127.0.0.1:${echo.port}`, 'tunnel-private@127.0.0.1'], 'ping\n');
    expect(channel.code).toBe(255);
    expect(channel.stderr).toContain('administratively prohibited');
    expect(echo.connections).toBe(before);
  });
});

describe('a public lease (tunnel, GatewayPorts yes)', () => {
  test.each(requests.map(([name, bind], i) => [name, bind, i] as const))('asked for %s, still listens on every address', async (_name, bind, i) => {
    const port = publicPorts[i]!;
    const forward = await tunnel(publicHost, 'tunnel', port, bind);
    try {
      expect(await listeningAddresses(port)).toEqual(['0.0.0.0', '[::]']);
    } finally {
      await forward.close();
    }
  });

  test('a key in the public file alone cannot log in as tunnel-private', async () => {
    const port = publicPorts[0]!;
    await expect(tunnel(publicHost, 'tunnel-private', port)).rejects.toThrow('Permission denied (publickey)');
    expect(await listeningAddresses(port)).toEqual([]);
  });
});
