import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort, knownHostsLine, openReverseTunnel, startTunnelBox, writeAuthorizedKeys, type ReverseTunnel, type TunnelBox } from '@tmuxme/testing';
import { boxLog, holdBanner, joinKeyLine, keyFile, killChildren, runSsh, tunnelKeyLine, type KeyFile } from './helpers.js';

// The whole way in, with the real client on both hops: a guest's `ssh -J
// join@relay` to a host whose sshd is behind a private forward on the relay.
// A second box stands in for the host's sshd: it answers SSH, pins a host key
// and says who it is (its banner), which is all the guest's end needs.
let relay: TunnelBox;
let hostSshd: TunnelBox;
let work: string;
let host: KeyFile;
let guest: KeyFile;
let stranger: KeyFile;
let port: number;
let otherSession: number;
let forward: ReverseTunnel;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-jump-path-test-'));
  [relay, hostSshd, host, guest, stranger, port, otherSession] = await Promise.all([
    startTunnelBox(), startTunnelBox(), keyFile(work, 'host'), keyFile(work, 'guest'), keyFile(work, 'stranger'), freePort(), freePort(),
  ]);
  await Promise.all([
    writeAuthorizedKeys(relay, [tunnelKeyLine(host, port, 'u-host', 'k1')], { user: 'tunnel-private' }),
    writeAuthorizedKeys(relay, [joinKeyLine(guest, [`127.0.0.1:${port}`], 'u-guest', 'k2'), joinKeyLine(stranger, [`127.0.0.1:${otherSession}`], 'u-other', 'k3')], { user: 'join' }),
    // The host's sshd lets in every key here: only the relay decides who gets this far.
    writeAuthorizedKeys(hostSshd, [guest, stranger].map((key, i) => `restrict,command="/usr/local/bin/tunnel-hold" ${key.publicKey} guest-${i}`)),
  ]);
  forward = await openReverseTunnel({ box: relay, privateKeyPath: host.path, user: 'tunnel-private', remotePort: port, target: { host: '127.0.0.1', port: hostSshd.port } });
});

afterAll(async () => {
  await forward?.close();
  await killChildren();
  await Promise.allSettled([relay, hostSshd].map((box) => box?.stop()));
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * `ssh -J` starts the jump hop's ssh with the same -F, so a config file is the
 * one way to give both hops this test's key and known_hosts.
 */
async function jumpConfig(key: KeyFile): Promise<string> {
  const knownHosts = join(work, 'known_hosts-jump');
  // The relay under its own name, the host under the alias the join command gives it.
  await writeFile(knownHosts, `${knownHostsLine(relay)}127.0.0.1:${port} ${hostSshd.hostPublicKey}\n`);
  const config = join(work, `ssh_config-${basename(key.path)}`);
  await writeFile(config, [
    `IdentityFile ${key.path}`, 'IdentitiesOnly yes', 'BatchMode yes', 'StrictHostKeyChecking yes',
    `UserKnownHostsFile ${knownHosts}`, 'ConnectTimeout 10', '',
  ].join('\n'));
  return config;
}

const jumpJoin = async (key: KeyFile, sessionPort = port) => runSsh([
  '-F', await jumpConfig(key), '-J', `join@127.0.0.1:${relay.port}`, '-o', `HostKeyAlias=127.0.0.1:${port}`, '-p', String(sessionPort), 'tunnel@127.0.0.1', 'id',
]);

describe('ssh -J join@relay', () => {
  test("takes an invited guest end to end to the host's sshd, both host keys checked", async () => {
    const result = await jumpJoin(guest);
    expect(result.code).toBe(0);
    // The banner is the host's sshd's; the relay ran nothing for the guest.
    expect(result.stderr).toContain(holdBanner);
    expect(result.stdout).toBe('');
    expect(await boxLog(relay)).toMatch(/Accepted publickey for join from 127\.0\.0\.1/);
    expect(await boxLog(hostSshd)).toMatch(/Accepted publickey for tunnel from 127\.0\.0\.1/);
  });

  test('gives a guest of another session no channel to this one', async () => {
    const result = await jumpJoin(stranger);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('administratively prohibited');
    expect(result.stderr).not.toContain(holdBanner);
  });

  test('gives an uninvited key no login on the relay', async () => {
    const uninvited = await keyFile(work, 'uninvited');
    const result = await jumpJoin(uninvited);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('join@127.0.0.1: Permission denied (publickey)');
  });

  /** As pinnedJumpJoinCommand spells it, plus this test's key, with `relayKey` pinned for the jump hop: %%H reaches the inner ssh as %H. */
  const pinnedJump = (relayKey: string) => {
    const identity = `-F none -i ${guest.path} -o IdentitiesOnly=yes -o BatchMode=yes`;
    return runSsh([
      ...identity.split(' '), '-o', 'UserKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
      '-o', `KnownHostsCommand=/bin/echo %H ${hostSshd.hostPublicKey}`,
      '-o', `ProxyCommand=ssh ${identity} -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KnownHostsCommand='/bin/echo %%H ${relayKey}' -p ${relay.port} -W %h:%p join@127.0.0.1`,
      '-p', String(port), 'tunnel@127.0.0.1', 'id',
    ]);
  };

  test('the pinned form (ProxyCommand, both keys from KnownHostsCommand) asks nothing and writes nothing', async () => {
    const result = await pinnedJump(relay.hostPublicKey);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(holdBanner);
    expect(result.stderr).not.toMatch(/Permanently added|authenticity/);
  });

  test('the pinned form fails closed when the relay is not the pinned one', async () => {
    // The host's key where the relay's belongs: the jump hop must refuse.
    const result = await pinnedJump(hostSshd.hostPublicKey);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(result.stderr).not.toContain(holdBanner);
  });
});
