import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdir } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { canConnect, exchange, freePort, generateSshKey, type TunnelBox } from '@tmuxme/testing';
import { eventually } from '../../test/eventually.js';
import { itBindsLeasesWhereTheBoxSays } from '../../test/lease-binding.js';
import { startLeasedTunnelBox, type LeasedTunnelBox } from '../../test/leased-tunnel-box.js';
import { openEmbeddedTunnel, type EmbeddedTunnel, type EmbeddedTunnelOptions } from './embedded-tunnel.js';
import { TunnelAuthRefused, TunnelFailed, TunnelHostKeyMismatch, TunnelPortRefused } from './reverse-tunnel.js';

const tunnels: EmbeddedTunnel[] = [];
// Only the key a test names: never the machine's agent or ~/.ssh.
const noAgent = { HOME: '/nonexistent' };

let fixture: LeasedTunnelBox;
let box: TunnelBox;
let work: string;
let leasedPort: number;
let hostKeyFile: string;
let strangerKeyFile: string;
let lockedKeyFile: string;

beforeAll(async () => {
  fixture = await startLeasedTunnelBox();
  ({ box, work, leasedPort, hostKeyFile, strangerKeyFile, lockedKeyFile } = fixture);
});

afterAll(async () => {
  await Promise.allSettled(tunnels.map((tunnel) => tunnel.close()));
  await fixture?.stop();
});

/** Echoes every stream that arrives, standing in for the guests' SSH server. */
const echo = (stream: Duplex) => stream.pipe(stream);

async function open(overrides: Partial<EmbeddedTunnelOptions> & { port?: number; hostKey?: string; tunnelUser?: string } = {}): Promise<EmbeddedTunnel> {
  const { port = leasedPort, hostKey = box.hostPublicKey, tunnelUser, ...rest } = overrides;
  const tunnel = await openEmbeddedTunnel({
    lease: { port, tunnelHost: box.host, tunnelPort: box.port, tunnelHostKey: hostKey, tunnelUser },
    onConnection: echo, identityFile: hostKeyFile, env: noAgent, readyTimeoutMs: 15_000,
    ...rest,
  });
  tunnels.push(tunnel);
  return tunnel;
}

describe('the embedded reverse tunnel', () => {
  it('hands each connection to the box\'s leased port over as a stream, and close() frees the port', async () => {
    const arrived: Duplex[] = [];
    const tunnel = await open({ onConnection: (stream) => { arrived.push(stream); echo(stream); } });
    expect(await exchange(leasedPort, 'hello from a guest\n')).toBe('hello from a guest\n');
    expect(await exchange(leasedPort, 'and another\n')).toBe('and another\n');
    expect(arrived).toHaveLength(2);

    let dropped = false;
    void tunnel.dropped.then(() => { dropped = true; });
    await tunnel.close();
    await eventually(async () => !(await canConnect(leasedPort)), 'the box stops listening');
    await new Promise((resolve) => setImmediate(resolve));
    expect(dropped).toBe(false);
  });

  itBindsLeasesWhereTheBoxSays(() => fixture, open);

  it('closes a stream once the guest hangs up, as a socket would', async () => {
    const closed: Promise<void>[] = [];
    const tunnel = await open({ onConnection: (stream) => {
      stream.resume();
      closed.push(new Promise((resolve) => stream.once('close', () => resolve())));
    } });
    const socket = connect({ host: '127.0.0.1', port: leasedPort }, () => socket.end('bye\n'));
    socket.resume();
    await eventually(() => closed.length === 1, 'the connection arrived');
    await closed[0];
    await tunnel.close();
    await eventually(async () => !(await canConnect(leasedPort)), 'the box stops listening');
  });

  it('finds the key in ~/.ssh when none is named, as ssh would', async () => {
    const home = join(work, 'home');
    await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    await copyFile(hostKeyFile, join(home, '.ssh', 'id_ed25519'));
    const tunnel = await open({ identityFile: undefined, env: { HOME: home } });
    expect(await exchange(leasedPort, 'default key\n')).toBe('default key\n');
    await tunnel.close();
    await eventually(async () => !(await canConnect(leasedPort)), 'the box stops listening');
  });

  it('says when it drops by itself', async () => {
    // A TCP proxy we can cut stands between us and the box.
    const links = new Set<Socket>();
    const proxy = createServer((inbound) => {
      const outbound = connect({ host: box.host, port: box.port });
      links.add(inbound).add(outbound);
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => {});
      outbound.on('error', () => {});
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const tunnel = await openEmbeddedTunnel({
        lease: { port: leasedPort, tunnelHost: '127.0.0.1', tunnelPort: (proxy.address() as { port: number }).port, tunnelHostKey: box.hostPublicKey },
        onConnection: echo, identityFile: hostKeyFile, env: noAgent,
      });
      tunnels.push(tunnel);
      links.forEach((socket) => socket.destroy());
      const dropped = await tunnel.dropped;
      expect(dropped).toBeInstanceOf(TunnelFailed);
      expect(dropped.message).toMatch(/^the tunnel to 127\.0\.0\.1:\d+ dropped/);
      await tunnel.close();
      await eventually(async () => !(await canConnect(leasedPort)), 'the box stops listening', 10_000);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('is refused a port the key may not listen on', async () => {
    const otherPort = await freePort();
    await expect(open({ port: otherPort })).rejects.toBeInstanceOf(TunnelPortRefused);
  });

  it('is refused a port that is busy on the box', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(leasedPort, resolve));
    try {
      const refusal = open();
      await expect(refusal).rejects.toBeInstanceOf(TunnelPortRefused);
      await expect(refusal).rejects.toThrow(`the box would not listen on port ${leasedPort}`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('is refused for a key the box does not hold', async () => {
    const refusal = open({ identityFile: strangerKeyFile });
    await expect(refusal).rejects.toBeInstanceOf(TunnelAuthRefused);
    await expect(refusal).rejects.toThrow('the box refused our key');
  });

  it('says a passphrase-protected key needs the agent rather than blaming the box', async () => {
    const failure = open({ identityFile: lockedKeyFile });
    await expect(failure).rejects.toBeInstanceOf(TunnelFailed);
    await expect(failure).rejects.toThrow(`${lockedKeyFile} is passphrase-protected and no ssh-agent is running`);
  });

  it('never talks to a box whose host key is not the pinned one', async () => {
    const impostor = (await generateSshKey('ed25519')).publicKey;
    const refusal = open({ hostKey: impostor });
    await expect(refusal).rejects.toBeInstanceOf(TunnelHostKeyMismatch);
    await expect(refusal).rejects.toThrow('the box\'s host key is not the one the lease pinned');
  });

  it('fails with the reason when nothing listens', async () => {
    const closedPort = await freePort();
    const failure = openEmbeddedTunnel({
      lease: { port: leasedPort, tunnelHost: '127.0.0.1', tunnelPort: closedPort, tunnelHostKey: box.hostPublicKey },
      onConnection: echo, identityFile: hostKeyFile, env: noAgent,
    });
    await expect(failure).rejects.toBeInstanceOf(TunnelFailed);
    await expect(failure).rejects.toThrow('ECONNREFUSED');
  });
});
