import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, generateSshKey, startTunnelBox, writeAuthorizedKeys, type TunnelBox } from '@tmuxme/testing';

const run = promisify(execFile);

/** A real tunnel box holding one leased port, and the host's keys as the tunnel tests need them. */
export interface LeasedTunnelBox {
  box: TunnelBox;
  /** A temporary folder of the test's, removed by stop(). */
  work: string;
  leasedPort: number;
  /** Leased privately: the host key may listen on it only as tunnel-private, whose sshd binds loopback. */
  privateLeasedPort: number;
  /** May listen on leasedPort (as tunnel) and privateLeasedPort (as tunnel-private). */
  hostKeyFile: string;
  /** Unknown to the box. */
  strangerKeyFile: string;
  /** Known to the box, but locked by a passphrase. */
  lockedKeyFile: string;
  stop(): Promise<void>;
}

export async function startLeasedTunnelBox(): Promise<LeasedTunnelBox> {
  const work = await mkdtemp(join(tmpdir(), 'tmuxme-tunnel-test-'));
  const privateKeyFile = async (name: string) => {
    const key = await generateSshKey('ed25519');
    const path = join(work, name);
    await writeFile(path, key.privateKey, { mode: 0o600 });
    return { path, publicKey: key.publicKey.trim().split(' ').slice(0, 2).join(' ') };
  };
  const [box, host, stranger, locked, leasedPort] = await Promise.all([
    startTunnelBox(), privateKeyFile('host'), privateKeyFile('stranger'), privateKeyFile('locked'), freePort(),
  ]);
  let privateLeasedPort = await freePort();
  while (privateLeasedPort === leasedPort) privateLeasedPort = await freePort();
  await run('ssh-keygen', ['-p', '-q', '-P', '', '-N', 'a passphrase', '-f', locked.path]);
  // As tunnel-sync writes them for a user holding a public lease on leasedPort and a private one on privateLeasedPort.
  const lines = (port: number) => [host, locked].map(({ publicKey }, i) =>
    `restrict,port-forwarding,permitlisten="${port}",command="/usr/local/bin/tunnel-hold" ${publicKey} tmuxme:u-host:k${i}`);
  await writeAuthorizedKeys(box, lines(leasedPort));
  await writeAuthorizedKeys(box, lines(privateLeasedPort), { user: 'tunnel-private' });
  return {
    box, work, leasedPort, privateLeasedPort, hostKeyFile: host.path, strangerKeyFile: stranger.path, lockedKeyFile: locked.path,
    async stop() {
      await box.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}
