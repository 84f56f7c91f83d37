import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:net';
import { canConnect, exchange, freePort, generateSshKey, type TunnelBox } from '@tmuxme/testing';
import { eventually } from '../../test/eventually.js';
import { itBindsLeasesWhereTheBoxSays } from '../../test/lease-binding.js';
import { startLeasedTunnelBox, type LeasedTunnelBox } from '../../test/leased-tunnel-box.js';
import {
  TunnelAuthRefused, TunnelFailed, TunnelHostKeyMismatch, TunnelPortRefused, openReverseTunnel, type ReverseTunnel, type ReverseTunnelOptions,
} from './reverse-tunnel.js';

let echo: Server;
let echoPort: number;
const tunnels: ReverseTunnel[] = [];

let fixture: LeasedTunnelBox;
let box: TunnelBox;
let leasedPort: number;
let hostKeyFile: string;
let strangerKeyFile: string;
let lockedKeyFile: string;

beforeAll(async () => {
  // The host's sshd stands in as a TCP echo server: the tunnel carries bytes, whatever they are.
  echo = createServer((socket) => { socket.on('error', () => socket.destroy()); socket.pipe(socket); });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
  fixture = await startLeasedTunnelBox();
  ({ box, leasedPort, hostKeyFile, strangerKeyFile, lockedKeyFile } = fixture);
});

afterAll(async () => {
  await Promise.allSettled(tunnels.map((tunnel) => tunnel.close()));
  await fixture?.stop();
  await new Promise((resolve) => echo?.close(resolve));
});

/** What the lead's host flow passes: the lease as the API gives it, and (in tests only) a key of our own and no user config. */
async function open(overrides: Partial<ReverseTunnelOptions> & { port?: number; hostKey?: string; tunnelUser?: string } = {}): Promise<ReverseTunnel> {
  const { port = leasedPort, hostKey = box.hostPublicKey, tunnelUser, ...rest } = overrides;
  const tunnel = await openReverseTunnel({
    lease: { port, tunnelHost: box.host, tunnelPort: box.port, tunnelHostKey: hostKey, tunnelUser },
    localPort: echoPort, identityFile: hostKeyFile, sshArgs: ['-F', 'none', '-o', 'IdentitiesOnly=yes'], readyTimeoutMs: 15_000,
    ...rest,
  });
  tunnels.push(tunnel);
  return tunnel;
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); })]);
  clearTimeout(timer);
  return settled;
}

describe('the reverse tunnel', () => {
  it('is up once it resolves: the box\'s port reaches this machine, and close() frees it', async () => {
    const tunnel = await open();
    expect(await exchange(leasedPort, 'hello from a guest\n')).toBe('hello from a guest\n');

    await tunnel.close();
    await eventually(async () => !(await canConnect(leasedPort)), 'the box stops listening');
    expect(await settlesWithin(tunnel.dropped, 500)).toBe(false);
  });

  itBindsLeasesWhereTheBoxSays(() => fixture, open);

  it('opens with the machine\'s own ssh config too, as the product runs it', async () => {
    const tunnel = await open({ sshArgs: [] });
    expect(await exchange(leasedPort, 'through the default options\n')).toBe('through the default options\n');
    await tunnel.close();
    await eventually(async () => !(await canConnect(leasedPort)), 'the box stops listening');
  });

  it('says when it drops by itself', async () => {
    const tunnel = await open();
    process.kill(tunnel.pid, 'SIGKILL');
    const dropped = await tunnel.dropped;
    expect(dropped).toBeInstanceOf(TunnelFailed);
    expect(dropped.message).toMatch(/^the tunnel to 127\.0\.0\.1:\d+ dropped/);
    await tunnel.close();
  });

  it('is refused a port the key may not listen on', async () => {
    const otherPort = await freePort();
    const refusal = open({ port: otherPort });
    await expect(refusal).rejects.toBeInstanceOf(TunnelPortRefused);
    await expect(refusal).rejects.toThrow(`remote port forwarding failed for listen port ${otherPort}`);
  });

  it('is refused a port that is busy on the box', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(leasedPort, resolve));
    try {
      await expect(open()).rejects.toBeInstanceOf(TunnelPortRefused);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('is refused for a key the box does not hold', async () => {
    const refusal = open({ identityFile: strangerKeyFile });
    await expect(refusal).rejects.toBeInstanceOf(TunnelAuthRefused);
    await expect(refusal).rejects.toThrow('Permission denied (publickey)');
  });

  it('is not mistaken for a lagging box when our key is known there but locked by a passphrase', async () => {
    const failure = open({ identityFile: lockedKeyFile });
    await expect(failure).rejects.toBeInstanceOf(TunnelFailed);
    await expect(failure).rejects.toThrow('the box knows your key, but ssh could not use it');
  });

  it('never talks to a box whose host key is not the pinned one', async () => {
    const impostor = (await generateSshKey('ed25519')).publicKey;
    const refusal = open({ hostKey: impostor });
    await expect(refusal).rejects.toBeInstanceOf(TunnelHostKeyMismatch);
    await expect(refusal).rejects.toThrow('Host key verification failed.');
  });

  it('fails with ssh\'s own words when nothing listens', async () => {
    const closedPort = await freePort();
    const failure = openReverseTunnel({
      lease: { port: leasedPort, tunnelHost: '127.0.0.1', tunnelPort: closedPort, tunnelHostKey: box.hostPublicKey },
      localPort: echoPort, identityFile: hostKeyFile, sshArgs: ['-F', 'none'],
    });
    await expect(failure).rejects.toBeInstanceOf(TunnelFailed);
    await expect(failure).rejects.toThrow('Connection refused');
  });
});
