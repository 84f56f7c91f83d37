import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawn as spawnPty } from '@lydell/node-pty';
import { freePort, generateSshKey, startTunnelBox, writeAuthorizedKeys, type TunnelBox } from '@tmuxme/testing';
import { eventually } from '../../test/eventually.js';
import type { PairingSession } from './api-client.js';
import { openEmbeddedTunnel, type EmbeddedTunnel } from './embedded-tunnel.js';
import { GuestSshServer } from './guest-ssh-server.js';
import { sshFingerprint } from './ssh-fingerprint.js';
import { tcpAnswer } from './join-path.js';
import { joinSession, prepareJoin, type JoinSessionOptions } from './join-session.js';
import { tmuxEnvironment } from './tmux-session.js';

const run = promisify(execFile);

/**
 * `tmuxme join` against a real box (its three accounts, its sshd) and the guests' SSH server inside
 * tmuxme behind real reverse tunnels on it: one public lease, one private. The box listens on every
 * address, so 127.0.0.2 is "this box from elsewhere": its SSH port answers there, a private lease's
 * port does not, and a firewall rule can silence a public one, as a hotel network would.
 */
let work: string;
let box: TunnelBox;
let socket: string;
let server: GuestSshServer;
let publicPort: number;
let privatePort: number;
let hostPublicKey: string;
const keyFiles: Record<'tunnel' | 'alice', string> = {} as never;
const tunnels: EmbeddedTunnel[] = [];
const cleanups: (() => unknown)[] = [];
// The guest's ssh uses only the key a test names, never this machine's agent or config.
const { SSH_AUTH_SOCK: _agent, TMUX: _tmux, TMUX_PANE: _pane, ...sshEnvironment } = process.env;
const elsewhere = '127.0.0.2';

const pane = async () => (await run('tmux', ['-S', socket, 'capture-pane', '-p', '-J'], { env: tmuxEnvironment() })).stdout;
const joinLogins = async () => ((await readFile(join(box.dir, 'sshd.log'), 'utf8')).match(/Accepted publickey for join from/g) ?? []).length;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-join-'));
  box = await startTunnelBox({ listen: '0.0.0.0' });
  publicPort = await freePort();
  do privatePort = await freePort(); while (privatePort === publicPort);
  const [tunnelKey, alice, hostKey] = await Promise.all([generateSshKey('ed25519'), generateSshKey('ed25519'), generateSshKey('ed25519')]);
  const publicKey = (key: { publicKey: string }) => key.publicKey.trim().split(' ').slice(0, 2).join(' ');
  for (const [name, key] of Object.entries({ tunnel: tunnelKey, alice })) {
    keyFiles[name as keyof typeof keyFiles] = join(work, name);
    await writeFile(join(work, name), key!.privateKey, { mode: 0o600 });
  }
  hostPublicKey = publicKey(hostKey!);
  // As tunnel-sync writes them: the host's leases, and alice as a guest of both sessions on one line.
  const hostLine = (port: number) => `restrict,port-forwarding,permitlisten="${port}",command="/usr/local/bin/tunnel-hold" ${publicKey(tunnelKey!)} tmuxme:u-hana:k1`;
  await writeAuthorizedKeys(box, [hostLine(publicPort)]);
  await writeAuthorizedKeys(box, [hostLine(privatePort)], { user: 'tunnel-private' });
  await writeAuthorizedKeys(box, [
    `restrict,port-forwarding,permitopen="127.0.0.1:${publicPort}",permitopen="127.0.0.1:${privatePort}",command="/usr/local/bin/tunnel-hold" ${publicKey(alice!)} tmuxme-join:u-alice:k2`,
  ], { user: 'join' });

  socket = join(work, 'tmux.sock');
  await run('tmux', ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '80', '-y', '24', 'env', 'PS1=$ ', 'sh'], { env: tmuxEnvironment() });
  server = new GuestSshServer({ hostKey: hostKey!.privateKey, tmuxPath: 'tmux', socket, guests: [{ username: 'alice', access: 'rw', publicKeys: [alice!.publicKey] }] });
  for (const [port, tunnelUser] of [[publicPort, 'tunnel'], [privatePort, 'tunnel-private']] as const) {
    tunnels.push(await openEmbeddedTunnel({
      lease: { port, tunnelHost: box.host, tunnelPort: box.port, tunnelHostKey: box.hostPublicKey, tunnelUser },
      onConnection: (stream) => server.serve(stream), identityFile: keyFiles.tunnel, env: { HOME: '/nonexistent' },
    }));
  }
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
  await Promise.allSettled(tunnels.map((tunnel) => tunnel.close()));
  await server?.close();
  await run('tmux', ['-S', socket, 'kill-server']).catch(() => {});
  await box?.stop();
  await rm(work, { recursive: true, force: true });
});

/** The session resource as GET /api/v1/pairing/sessions/:id gives it to alice. */
function session(overrides: Partial<PairingSession> = {}): PairingSession {
  const { tunnelHost = box.host, port = publicPort } = overrides;
  return {
    id: 's1', role: 'guest', host: { username: 'hana' }, port, tunnelHost, tunnelPort: box.port, tunnelHostKey: box.hostPublicKey,
    guests: [{ username: 'alice', access: 'rw' }], private: false,
    joinCommand: `ssh -p ${port} tmuxme@${tunnelHost}`, jumpJoinCommand: `ssh -J join@${tunnelHost}:${box.port} -p ${port} tmuxme@127.0.0.1`,
    hostKey: hostPublicKey, hostKeyFingerprint: sshFingerprint(hostPublicKey),
    createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString(),
    ...overrides,
  };
}

// What a guest passes after `--`: their key, and nothing from this machine's ssh config.
const guestOptions = () => ['-F', '/dev/null', '-i', keyFiles.alice, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'];

/** `tmuxme join` up to ssh, then ssh in a real terminal: what was said, and whether a command typed there ran in the host's tmux. */
async function joinAsAlice(target: PairingSession, options: Partial<JoinSessionOptions> = {}) {
  const said: string[] = [];
  const started = Date.now();
  const prepared = await prepareJoin(target, { sshOptions: guestOptions(), insecureAcceptNew: false, viaSshPort: false, say: (line) => said.push(line), ...options });
  const tookMs = Date.now() - started;
  cleanups.push(() => prepared.knownHosts.remove());
  const terminal = spawnPty('ssh', prepared.args, { name: 'xterm-256color', cols: 80, rows: 24, env: { ...sshEnvironment, TERM: 'xterm-256color' } });
  let screen = '';
  terminal.onData((data) => { screen += data; });
  let exitCode: number | undefined;
  const exited = new Promise<number>((resolve) => terminal.onExit((exit) => resolve(exitCode = exit.exitCode)));
  cleanups.push(() => terminal.kill());
  const typed = async (word: string) => {
    await eventually(() => {
      if (exitCode !== undefined) throw new Error(`ssh exited (${exitCode}) before alice was attached: ${screen}`);
      return server.connections().some((connection) => connection.tmuxClientPids.length > 0);
    }, 'alice attached', 15_000);
    terminal.write(`echo ${word.slice(0, 3)}""${word.slice(3)}\r`);
    await eventually(async () => (await pane()).includes(word), `${word} ran in the host's pane (ssh: ${screen})`, 10_000);
    terminal.kill();
    await exited;
    await eventually(() => server.connections().length === 0, 'alice left');
  };
  return { route: prepared.path.route, said, tookMs, typed, exited, screen: () => screen };
}

async function silenced<T>(host: string, port: number, body: () => Promise<T>): Promise<T> {
  // Drops the SYN, as a network that lets only a few ports out does: connect hears nothing, not a refusal.
  const rule = ['OUTPUT', '-d', host, '-p', 'tcp', '--dport', String(port), '-j', 'DROP'];
  await run('iptables', ['-I', ...rule]);
  try {
    return await body();
  } finally {
    await run('iptables', ['-D', ...rule]);
  }
}

describe('tmuxme join', () => {
  it('goes straight to the session\'s port when it answers, and the box\'s jump user is not used', async () => {
    const before = await joinLogins();
    const joined = await joinAsAlice(session());
    expect(joined.route).toBe('port');
    expect(joined.said).toEqual([`joining through 127.0.0.1:${publicPort} (the session's port): it answered`]);
    await joined.typed('straight-in');
    expect(await joinLogins()).toBe(before);
  }, 30_000);

  it('goes through join@box when the session\'s port does not answer within 1.5 s, both hops pinned', async () => {
    const before = await joinLogins();
    await silenced(elsewhere, publicPort, async () => {
      expect(await tcpAnswer(elsewhere, publicPort, 1_000)).toBe('timeout');
      const joined = await joinAsAlice(session({ tunnelHost: elsewhere }));
      expect(joined.said).toEqual([`joining through ${elsewhere}:${box.port} (the SSH port): port ${publicPort} did not answer within 1.5 s`]);
      expect(joined.tookMs).toBeGreaterThanOrEqual(1_500);
      await joined.typed('via-the-box');
    });
    expect(await joinLogins()).toBe(before + 1);
  }, 30_000);

  it('joins a private session through join@box at once, its port closed to anywhere but the box', async () => {
    expect(await tcpAnswer(elsewhere, privatePort, 1_000)).toBe('refused');
    const before = await joinLogins();
    const joined = await joinAsAlice(session({ tunnelHost: elsewhere, port: privatePort, private: true }));
    expect(joined.said).toEqual([`joining through ${elsewhere}:${box.port} (the SSH port): the session is private, so its port answers only on the box`]);
    expect(joined.tookMs).toBeLessThan(1_500);
    await joined.typed('privately');
    expect(await joinLogins()).toBe(before + 1);
  }, 30_000);

  it('--via-ssh-port goes through join@box though the port answers, the guest\'s options reaching both hops intact', async () => {
    // A space and a % in a path: ProxyCommand goes through /bin/sh and %-expansion, and neither may change it.
    const log = join(work, 'ssh 100% log');
    const joined = await joinAsAlice(session(), { viaSshPort: true, sshOptions: [...guestOptions(), '-v', '-E', log] });
    expect(joined.said).toEqual([`joining through 127.0.0.1:${box.port} (the SSH port): as --via-ssh-port asks`]);
    await joined.typed('forced-hop');
    const logged = await readFile(log, 'utf8');
    expect(logged).toContain(`Connecting to 127.0.0.1 [127.0.0.1] port ${box.port}.`);
    expect(logged).toContain(`Authenticated to 127.0.0.1 ([127.0.0.1]:${box.port}) using "publickey"`);
  }, 30_000);

  it('stops at the box when it shows a key other than the session\'s, before the host is reached', async () => {
    const impostor = (await generateSshKey('ed25519')).publicKey.trim().split(' ').slice(0, 2).join(' ');
    const joined = await joinAsAlice(session({ tunnelHostKey: impostor }), { viaSshPort: true });
    expect(await joined.exited).toBe(255);
    expect(joined.screen()).toContain('Host key verification failed');
    expect(server.connections()).toEqual([]);
  }, 30_000);

  it('--dry-run prints both pinned hops and the command, runs nothing, and leaves no known_hosts behind', async () => {
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    const before = await joinLogins();
    try {
      expect(await joinSession(session({ private: true, port: privatePort }), { sshOptions: [], insecureAcceptNew: false, viaSshPort: false, dryRun: true, say: () => {} })).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(printed[0]).toBe(`known_hosts: [127.0.0.1]:${box.port} ${box.hostPublicKey}\n             [127.0.0.1]:${privatePort} ${hostPublicKey}`);
    const file = /UserKnownHostsFile=(\S+)/.exec(printed[1]!)![1]!;
    expect(printed[1]).toBe(`ssh -o UserKnownHostsFile=${file} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes `
      + `-o 'ProxyCommand=ssh -o UserKnownHostsFile=${file} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -W %h:%p -p ${box.port} join@127.0.0.1' `
      + `-p ${privatePort} tmuxme@127.0.0.1`);
    await expect(readFile(file)).rejects.toThrow('ENOENT');
    expect(await joinLogins()).toBe(before);
  });

  it('with --insecure-accept-new, takes an undeclared host key as shown, still pinning the box', async () => {
    const unpinned = session({ private: true, port: privatePort, hostKey: undefined, hostKeyFingerprint: undefined });
    await expect(prepareJoin(unpinned, { sshOptions: [], insecureAcceptNew: false, viaSshPort: false, say: () => {} })).rejects.toThrow('declared no SSH host key');
    const joined = await joinAsAlice(unpinned, { insecureAcceptNew: true });
    expect(joined.said[0]).toBe('Warning: no host key was declared; ssh will trust whichever key the other end shows.');
    await joined.typed('accepted-new');
  }, 30_000);
});
