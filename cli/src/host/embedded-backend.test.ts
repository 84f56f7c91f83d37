import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawn as spawnPty } from '@lydell/node-pty';
import { canConnect, freePort, generateSshKey, startTunnelBox, writeAuthorizedKeys, type TunnelBox } from '@tmuxme/testing';
import { eventually } from '../../test/eventually.js';
import type { PortLease } from '../lib/api-client.js';
import { tmuxEnvironment } from '../lib/tmux-session.js';
import type { HostBackend, OpenTunnel } from './host-backend.js';
import { createEmbeddedBackend } from './embedded-backend.js';

const run = promisify(execFile);

let box: TunnelBox;
let work: string;
let lease: PortLease;
let backend: HostBackend;
let tunnel: OpenTunnel;
let knownHosts: string;
const keyFiles: Record<'host' | 'alice' | 'bob' | 'stranger', string> = {} as never;
const publicKeys: Record<string, string> = {};
const notices: string[] = [];
const quietNotices: string[] = [];
let guestChanges = 0;
let aliceSsh: { exited: Promise<number> } | undefined;
const cleanups: (() => unknown)[] = [];
// The guests' ssh and the tunnel use only the keys a test names, never this machine's agent or config.
const { SSH_AUTH_SOCK: _agent, TMUX: _tmux, TMUX_PANE: _pane, ...sshEnvironment } = process.env;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-embedded-backend-'));
  const [started, port] = await Promise.all([startTunnelBox(), freePort()]);
  box = started;
  for (const name of ['host', 'alice', 'bob', 'stranger'] as const) {
    const key = await generateSshKey('ed25519');
    keyFiles[name] = join(work, name);
    publicKeys[name] = key.publicKey.trim().split(' ').slice(0, 2).join(' ');
    await writeFile(keyFiles[name], key.privateKey, { mode: 0o600 });
  }
  await writeAuthorizedKeys(box, [`restrict,port-forwarding,permitlisten="${port}",command="/usr/local/bin/tunnel-hold" ${publicKeys.host} tmuxme:u-host:k0`]);
  lease = {
    port, tunnelHost: box.host, tunnelPort: box.port, tunnelHostKey: box.hostPublicKey, leaseId: 'l-test',
    expiresAt: new Date(Date.now() + 60_000).toISOString(), private: false, tunnelUser: 'tunnel',
  };
  backend = await createEmbeddedBackend({
    identity: keyFiles.host, hostKeyFile: join(work, 'config', 'host_ed25519'), socketRoot: join(work, 'sockets'),
    env: { HOME: '/nonexistent' }, notice: (message, { quiet = false } = {}) => (quiet ? quietNotices : notices).push(message),
  });
});

afterAll(async () => {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
  await backend?.dismissGuests();
  await tunnel?.close();
  await backend?.stopTmux();
  await box?.stop();
  await rm(work, { recursive: true, force: true });
});

/** A guest's `ssh -tt` through the box, in a real terminal, trusting only the host key the session declares. */
function joinAsGuest(key: string, options: string[] = [], env: Record<string, string | undefined> = {}) {
  const terminal = spawnPty('ssh', [
    '-F', '/dev/null', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
    '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-i', key, '-tt', ...options, '-p', String(lease.port), `tmuxme@${lease.tunnelHost}`,
  ], { name: 'xterm-256color', cols: 80, rows: 24, env: { ...sshEnvironment, ...env, TERM: 'xterm-256color' } });
  let screen = '';
  terminal.onData((data) => { screen += data; });
  const exited = new Promise<number>((resolve) => terminal.onExit(({ exitCode }) => resolve(exitCode)));
  cleanups.push(() => terminal.kill());
  return { type: (text: string) => terminal.write(text), screen: () => screen, exited };
}

const pane = async () => {
  const [, , socket] = backend.attachCommand();
  const { stdout } = await run('tmux', ['-S', socket!, 'capture-pane', '-p', '-J'], { env: tmuxEnvironment() });
  return stdout;
};

describe('the embedded backend (no root, no sshd)', () => {
  it('sets up with no guests\' account, serving a tmux private to the host through the box', async () => {
    expect(await backend.ensureGuestUser(() => { throw new Error('asked for privileges'); })).toMatch(/none needed/);
    await backend.admitGuests([
      { username: 'alice', access: 'rw', keys: [{ id: 'k1', type: 'ssh-ed25519', key: publicKeys.alice!, fingerprint: '' }] },
      { username: 'bob', access: 'ro', keys: [{ id: 'k2', type: 'ssh-ed25519', key: publicKeys.bob!, fingerprint: '' }] },
    ]);
    tunnel = await backend.openTunnel(lease);
    await backend.startTmux();
    expect(await backend.tmuxRunning()).toBe(true);
    const hostKey = await backend.hostKey();
    expect(hostKey).toMatch(/^ssh-ed25519 /);
    knownHosts = join(work, 'known_hosts');
    await writeFile(knownHosts, `[${lease.tunnelHost}]:${lease.port} ${hostKey}\n`);
    expect(await backend.connectedGuests()).toEqual([]);
    backend.watchGuests!(() => { guestChanges += 1; });
  });

  it('lets alice type and bob only watch, both listed as connected guests; a stranger is refused', async () => {
    const alice = joinAsGuest(keyFiles.alice);
    aliceSsh = alice;
    const bob = joinAsGuest(keyFiles.bob);
    const guests = await eventually(async () => {
      const connected = await backend.connectedGuests();
      return connected.length === 2 && connected;
    }, `alice and bob connected (alice: ${alice.screen()}, bob: ${bob.screen()}, notices: ${notices.join(' | ')})`, 15_000);
    expect(guests.map(({ username, readOnly }) => ({ username, readOnly })).sort((a, b) => a.username!.localeCompare(b.username!)))
      .toEqual([{ username: 'alice', readOnly: false }, { username: 'bob', readOnly: true }]);

    await eventually(() => bob.screen().length > 0 && alice.screen().length > 0, 'both attached');
    bob.type('echo typed-by-b""ob\r');
    alice.type('echo typed-by-al""ice\r');
    await eventually(async () => (await pane()).includes('typed-by-alice'), 'alice\'s command ran in the host\'s pane', 10_000);
    expect(await pane()).not.toContain('typed-by-bob');

    const stranger = joinAsGuest(keyFiles.stranger);
    expect(await stranger.exited).toBe(255);
    expect(stranger.screen()).toContain('Permission denied (publickey)');
    await eventually(() => notices.some((notice) => notice.includes('(authentication)')), 'the stranger\'s refusal reached the host as a notice');

    // Her locale is taken; what she asks for beyond it is refused as a request, the variable quietly, and she stays.
    const asking = joinAsGuest(keyFiles.alice, ['-o', 'ForwardX11=yes', '-o', 'SetEnv=LANG=de_DE.UTF-8 LD_PRELOAD=/x'], { DISPLAY: ':99' });
    await eventually(() => notices.some((notice) => notice.includes('X11')) && quietNotices.length > 0, `the refused requests reached the host (${notices.join(' | ')})`);
    expect(notices).toContain('Refused alice\'s X11 forwarding request: X11 forwarding');
    expect(quietNotices).toEqual(['Refused alice\'s env request: setting "LD_PRELOAD" (only TERM, LANG and LC_* are accepted)']);
    expect([...notices, ...quietNotices].join('\n')).not.toMatch(/alice's connection|de_DE/);
    await eventually(async () => (await backend.connectedGuests()).length === 3, 'she is connected all the same');
    asking.type('\x02d');
    expect(await asking.exited).toBe(0);
    await eventually(async () => (await backend.connectedGuests()).length === 2, 'she detached');
  }, 30_000);

  it('tells the flow at once as guests come and go, and disconnects one guest by their connection id', async () => {
    expect(guestChanges).toBeGreaterThanOrEqual(2);
    const before = guestChanges;
    const connected = await backend.connectedGuests();
    const alice = connected.find((guest) => guest.username === 'alice')!;
    expect(alice.connectionId).toEqual(expect.any(String));
    expect(await backend.disconnectGuest!(alice.connectionId!)).toBe(true);
    await aliceSsh!.exited;
    await eventually(() => guestChanges > before, 'her leaving reached the flow without a poll');
    expect((await backend.connectedGuests()).map((guest) => guest.username)).toEqual(['bob']);
    expect(await backend.disconnectGuest!(alice.connectionId!)).toBe(false);
  });

  it('ends every guest and frees the box\'s port when torn down, leaving no socket directory', async () => {
    await backend.dismissGuests();
    expect(await backend.connectedGuests()).toEqual([]);
    await tunnel.close();
    await eventually(async () => !(await canConnect(lease.port)), 'the box stops listening');
    await backend.stopTmux();
    expect(await backend.tmuxRunning()).toBe(false);
    expect(await readdir(join(work, 'sockets'))).toEqual([]);
    expect(await backend.cleanUpDeadRuns()).toEqual([]);
  });
});
