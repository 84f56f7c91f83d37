import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateSshKey } from '@tmuxme/testing';
import { eventually } from '../../test/eventually.js';
import { pidOfAnExitedProcess } from '../../test/exited-process.js';
import { loginAsGuest, startHostSshd, type GuestLogin, type HostSshd } from '../../test/host-sshd.js';
import { createThrowawayGuestUser, deleteThrowawayUsers, refuseSudo } from '../../test/throwaway-users.js';
import { addGuestKeys, newRunMarker, removeGuestKeys } from './guest-authorized-keys.js';
import type { LocalUser } from './local-user.js';
import { TmuxSession, removeDeadSessionDirectories } from './tmux-session.js';

const run = promisify(execFile);

let guests: LocalUser;
let sshd: HostSshd;
let work: string;
// Not the real /tmp/tmuxme-0: a run of tmuxme on this machine must not see the tests.
let socketRoot: string;
const logins: GuestLogin[] = [];
const sessions: TmuxSession[] = [];

beforeAll(async () => {
  guests = await createThrowawayGuestUser();
  sshd = await startHostSshd(guests.name);
  work = await mkdtemp(join(tmpdir(), 'tmuxme-tmux-test-'));
  socketRoot = `/tmp/tmuxme-test-${randomBytes(4).toString('hex')}`;
});

afterAll(async () => {
  await Promise.all(logins.map((login) => login.end()));
  await Promise.all(sessions.map((session) => session.kill()));
  await sshd?.stop();
  await deleteThrowawayUsers();
  await rm(work, { recursive: true, force: true });
  await rm(socketRoot, { recursive: true, force: true });
});

async function startSession(): Promise<TmuxSession> {
  const session = await TmuxSession.prepare({ guests, explain: refuseSudo, socketRoot, cwd: work });
  sessions.push(session);
  await session.start();
  return session;
}

async function privateKeyFile(name: string): Promise<{ path: string; publicKey: string }> {
  const key = await generateSshKey('ed25519');
  const path = join(work, name);
  await writeFile(path, key.privateKey, { mode: 0o600 });
  return { path, publicKey: key.publicKey };
}

const modeOf = async (path: string) => {
  const info = await stat(path);
  return { uid: info.uid, gid: info.gid, mode: (info.mode & 0o7777).toString(8) };
};

describe('the host\'s tmux session', () => {
  it('sits behind directories and a socket that only the host and the guests\' group can reach', async () => {
    const session = await startSession();

    const host = process.getuid!();
    expect(await modeOf(socketRoot)).toEqual({ uid: host, gid: guests.gid, mode: '2750' });
    expect(await modeOf(session.directory)).toEqual({ uid: host, gid: guests.gid, mode: '2750' });
    expect(await modeOf(session.socket)).toEqual({ uid: host, gid: guests.gid, mode: '660' });
    const { stdout } = await run('tmux', ['-S', session.socket, 'server-access', '-l']);
    expect(stdout).toContain(`${guests.name} (W)`);
    expect(await session.isRunning()).toBe(true);
    expect(session.attachCommand()).toEqual([session.tmuxPath, '-S', session.socket, 'attach-session']);
  });

  it('shows guests who came in through sshd by name, read-only or not, and only the read-write one can type', async () => {
    const session = await startSession();
    const [aliceKey, bobKey] = await Promise.all([privateKeyFile('alice'), privateKeyFile('bob')]);
    const marker = newRunMarker();
    await addGuestKeys({
      user: guests, marker, tmuxPath: session.tmuxPath, socket: session.socket,
      guests: [{ username: 'alice', readOnly: true, publicKeys: [aliceKey.publicKey] }, { username: 'bob', readOnly: false, publicKeys: [bobKey.publicKey] }],
    });
    try {
      const alice = loginAsGuest(sshd, guests.name, aliceKey.path);
      const bob = loginAsGuest(sshd, guests.name, bobKey.path);
      logins.push(alice, bob);

      const clients = await eventually(async () => {
        const found = await session.listClients();
        return found.length === 2 && found;
      }, `two guests attached (alice: ${alice.screen()} bob: ${bob.screen()} sshd: ${sshd.log()})`);
      const byGuest = Object.fromEntries(clients.map((client) => [client.guest, client]));
      expect(byGuest.alice).toMatchObject({ readOnly: true, uid: guests.uid, user: guests.name, tty: expect.stringMatching(/^\/dev\/pts\/\d+$/) });
      expect(byGuest.bob).toMatchObject({ readOnly: false, uid: guests.uid, user: guests.name });
      expect(Math.abs(byGuest.bob!.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      // tmux greets each guest with the suffix that names them.
      await eventually(() => alice.screen().includes('tmux.me: joined as alice (read-only)'), 'alice greeted');

      alice.type('echo typed-by-al""ice\r');
      bob.type('echo typed-by-b""ob\r');
      const pane = () => run('tmux', ['-S', session.socket, 'capture-pane', '-p']).then(({ stdout }) => stdout);
      await eventually(async () => (await pane()).includes('typed-by-bob'), 'bob\'s command ran in the host\'s shell');
      expect(await pane()).not.toContain('typed-by-al');

      await session.kill();
      await Promise.all([alice.exited, bob.exited]);
      expect([alice.screen(), bob.screen()]).toEqual([expect.stringContaining('[server exited]'), expect.stringContaining('[server exited]')]);
      expect(await session.listClients()).toEqual([]);
    } finally {
      await removeGuestKeys({ user: guests, marker });
    }
  }, 30_000);

  it('kept (--keep-tmux): goes on for the host alone, its guests detached and shut out', async () => {
    const session = await startSession();
    const key = await privateKeyFile('kept-guest');
    const marker = newRunMarker();
    await addGuestKeys({
      user: guests, marker, tmuxPath: session.tmuxPath, socket: session.socket,
      guests: [{ username: 'alice', readOnly: false, publicKeys: [key.publicKey] }],
    });
    try {
      const alice = loginAsGuest(sshd, guests.name, key.path);
      logins.push(alice);
      await eventually(async () => (await session.listClients()).length === 1, `alice attached (${alice.screen()})`);

      expect(await session.keep()).toBe(true);
      await alice.exited;
      expect(alice.screen()).toContain('[access not allowed]');
      expect(await session.isRunning()).toBe(true);
      expect(await modeOf(session.socket)).toMatchObject({ mode: '600' });
      const { stdout } = await run('tmux', ['-S', session.socket, 'server-access', '-l']);
      expect(stdout).not.toContain(guests.name);
      expect(existsSync(join(session.directory, 'kept'))).toBe(true);
    } finally {
      await removeGuestKeys({ user: guests, marker });
    }
  }, 30_000);

  it('kept, but tmux will not shut the guests out: stopped instead, and says why', async () => {
    const session = await startSession();
    // Already off the access list: tmux refuses to take the guests' user off it again.
    await run('tmux', ['-S', session.socket, 'server-access', '-d', guests.name]);
    await expect(session.keep()).rejects.toThrow(/^the guests could not be shut out of tmux, so it was stopped \(.*not found/);
    expect(await session.isRunning()).toBe(false);
    expect(existsSync(session.directory)).toBe(false);
  });

  it('kept after its last shell exited: nothing to keep, and nothing left', async () => {
    const session = await startSession();
    await run('tmux', ['-S', session.socket, 'kill-server']);
    expect(await session.keep()).toBe(false);
    expect(existsSync(session.directory)).toBe(false);
  });

  it('is gone, socket and directory, once killed', async () => {
    const session = await startSession();
    await session.kill();
    expect(await session.isRunning()).toBe(false);
    expect(existsSync(session.socket)).toBe(false);
    expect(existsSync(session.directory)).toBe(false);
  });

  it('cleans up after crashed runs (their tunnel, tmux server and directory), but not a live run, nor a session kept', async () => {
    const live = await startSession();
    const crashedWithServer = await startSession();
    const kept = await startSession();
    await kept.keep();
    const deadPid = await pidOfAnExitedProcess();
    const moved = async (session: TmuxSession, suffix: string) => {
      const directory = join(socketRoot, `${deadPid}-${suffix}`);
      await run('mv', [session.directory, directory]);
      return directory;
    };
    const crashedWithServerDir = await moved(crashedWithServer, '0000beef');
    const keptDir = await moved(kept, '0000cafe');
    const crashedDir = join(socketRoot, `${deadPid}-0000dead`);
    await mkdir(crashedDir);
    const notOurs = join(socketRoot, 'kept-by-hand');
    await mkdir(notOurs);

    // The crashed run's tunnel still runs (ssh by name).
    const orphanTunnel = spawn('sleep', ['60'], { argv0: 'ssh', stdio: 'ignore' });
    await writeFile(join(crashedWithServerDir, 'companion.pid'), `${orphanTunnel.pid}\n`);
    const ended = new Promise((resolve) => orphanTunnel.once('exit', (_code, signal) => resolve(signal)));

    expect((await removeDeadSessionDirectories(socketRoot)).sort()).toEqual([
      `the tmux session of ${deadPid}-0000beef, with the shells and programs in it`,
      `the tunnel of ${deadPid}-0000beef (ssh, pid ${orphanTunnel.pid})`,
      `tmux directory ${crashedDir}`,
      `tmux directory ${crashedWithServerDir}`,
    ].sort());
    expect(await ended).toBe('SIGTERM');
    await expect(run('tmux', ['-S', join(crashedWithServerDir, 'socket'), 'has-session'])).rejects.toThrow();
    expect([existsSync(live.directory), existsSync(crashedWithServerDir), existsSync(keptDir), existsSync(notOurs)]).toEqual([true, false, true, true]);
    await run('tmux', ['-S', join(keptDir, 'socket'), 'has-session']);

    // Once the host has left the kept session, its directory goes too.
    await run('tmux', ['-S', join(keptDir, 'socket'), 'kill-server']);
    expect(await removeDeadSessionDirectories(socketRoot)).toEqual([`tmux directory ${keptDir}`]);
    await rm(notOurs, { recursive: true });
  });

  it('without guests, is private to the host: 0700 directories, a 0600 socket, no access list, and still lists its clients', async () => {
    const privateRoot = join(work, 'private-root');
    const session = await TmuxSession.prepare({ socketRoot: privateRoot, cwd: work });
    sessions.push(session);
    await session.start();
    const host = process.getuid!();
    expect(await modeOf(privateRoot)).toMatchObject({ uid: host, mode: '700' });
    expect(await modeOf(session.directory)).toMatchObject({ uid: host, mode: '700' });
    expect(await modeOf(session.socket)).toMatchObject({ uid: host, mode: '600' });
    const { stdout } = await run('tmux', ['-S', session.socket, 'server-access', '-l']);
    expect(stdout).not.toContain(guests.name);
    expect(await session.listClients()).toEqual([]);

    await chmod(privateRoot, 0o777);
    await expect(TmuxSession.prepare({ socketRoot: privateRoot })).rejects.toThrow(`${privateRoot} is not a directory only you can write to`);
  });

  it('tells when the session ends by itself, with a watching client that neither sizes the window nor types', async () => {
    const session = await TmuxSession.prepare({ socketRoot: join(work, 'watched-root'), cwd: work });
    sessions.push(session);
    await session.start();
    const { ended } = session.watchEnd();
    let over = false;
    void ended.then(() => { over = true; });
    const watchers = async () => (await run('tmux', ['-S', session.socket, 'list-clients', '-F', '#{client_pid} #{client_flags}'])).stdout
      .split('\n').filter((line) => line.includes('control-mode'));
    await eventually(async () => (await watchers()).length === 1, 'the watch attached');
    const [first] = await watchers();
    expect(first).toMatch(/read-only/);
    expect(first).toMatch(/no-output/);
    expect(over).toBe(false);

    // `detach-client -a` from the host's own terminal detaches the watch too; the session goes on, watched again.
    await run('tmux', ['-S', session.socket, 'detach-client', '-s', '$0']);
    await eventually(async () => (await watchers()).some((line) => line.split(' ')[0] !== first!.split(' ')[0]), 'the watch attached again');
    expect(over).toBe(false);

    // The last shell exits, as when the host types `exit` while detached.
    await run('tmux', ['-S', session.socket, 'send-keys', 'exit', 'Enter']);
    await ended;
    expect(await session.isRunning()).toBe(false);
  });

  it('refuses a socket root that is someone else\'s, or a symlink', async () => {
    const squatted = `/tmp/tmuxme-test-${randomBytes(4).toString('hex')}`;
    await mkdir(squatted);
    await chown(squatted, guests.uid, guests.gid);
    const linked = `/tmp/tmuxme-test-${randomBytes(4).toString('hex')}`;
    await symlink(work, linked);
    try {
      for (const root of [squatted, linked]) {
        await expect(TmuxSession.prepare({ guests, explain: refuseSudo, socketRoot: root })).rejects.toThrow(`${root} is not a directory of yours`);
      }
    } finally {
      await rm(squatted, { recursive: true });
      await rm(linked);
    }
  });
});
