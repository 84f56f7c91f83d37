import { expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canConnect, exchange, listeningAddresses } from '@tmuxme/testing';
import { TunnelPortRefused } from '../src/lib/reverse-tunnel.js';
import { eventually } from './eventually.js';
import type { LeasedTunnelBox } from './leased-tunnel-box.js';

/** How a tunnel of either kind is opened by its test, on the fixture's box; connections it carries are echoed. */
export type OpenTunnel = (lease?: { port?: number; tunnelUser?: string }) => Promise<{ close(): Promise<void> }>;

/**
 * Where the box binds a lease, which the tunnel user decides and the client cannot: the same for the
 * embedded tunnel and OpenSSH's, so both test files register these.
 */
export function itBindsLeasesWhereTheBoxSays(fixture: () => LeasedTunnelBox, open: OpenTunnel): void {
  it('binds a public lease on every address of the box', async () => {
    const { leasedPort } = fixture();
    const tunnel = await open();
    try {
      expect((await listeningAddresses(leasedPort)).filter((address) => !['0.0.0.0', '[::]'].includes(address))).toEqual([]);
      // Another address of this machine, as a guest elsewhere would reach the box.
      expect(await exchange(leasedPort, 'from outside\n', '127.0.0.2')).toBe('from outside\n');
    } finally {
      await tunnel.close();
    }
    await eventually(async () => !(await canConnect(leasedPort)), 'the box stops listening');
  });

  it('logs in as tunnel-private for a private lease, which the box binds to its loopback only', async () => {
    const { box, privateLeasedPort } = fixture();
    const tunnel = await open({ port: privateLeasedPort, tunnelUser: 'tunnel-private' });
    try {
      expect(await readFile(join(box.dir, 'sshd.log'), 'utf8')).toMatch(/Accepted publickey for tunnel-private from/);
      const addresses = await listeningAddresses(privateLeasedPort);
      expect(addresses).toContain('127.0.0.1');
      expect(addresses.filter((address) => !['127.0.0.1', '[::1]'].includes(address))).toEqual([]);
      expect(await exchange(privateLeasedPort, 'on the box\n')).toBe('on the box\n');
      expect(await canConnect(privateLeasedPort, '127.0.0.2')).toBe(false);
    } finally {
      await tunnel.close();
    }
    await eventually(async () => !(await canConnect(privateLeasedPort)), 'the box stops listening');
  });

  it('is refused a private lease\'s port as the public tunnel user', async () => {
    await expect(open({ port: fixture().privateLeasedPort })).rejects.toBeInstanceOf(TunnelPortRefused);
  });
}
