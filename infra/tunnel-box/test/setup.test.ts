import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  canConnect, freePort, openReverseTunnel, startTunnelBox, tunnelBoxSetupScript, writeAuthorizedKeys, type ReverseTunnel, type TunnelBox,
} from '@tmuxme/testing';
import {
  exchange, holdBanner, joinKeyLine, keyFile, killChildren, runSsh, sshTo, startEchoServer, tunnelKeyLine, type EchoServer, type KeyFile,
} from './helpers.js';

interface ScriptResult { code: number; stdout: string; stderr: string }

function setupSh(args: string[], asUser?: string): Promise<ScriptResult> {
  const [command, argv] = asUser
    ? ['runuser', ['-u', asUser, '--', 'bash', tunnelBoxSetupScript, ...args]]
    : ['bash', [tunnelBoxSetupScript, ...args]];
  return new Promise((resolve) => {
    execFile(command, argv, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function groupId(name: string): Promise<number> {
  return Number((await readFile('/etc/group', 'utf8')).match(new RegExp(`^${name}:[^:]*:(\\d+):`, 'm'))?.[1]);
}

const boxArgs = (box: TunnelBox) => ['--dir', box.dir, '--port', String(box.port)];

/** Live sshd listeners started with this box's config (the pid file alone could lie). */
async function listeners(box: TunnelBox): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const state = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (cmdline.includes(`-f ${box.dir}/sshd_config -E`) && !/\) Z /.test(state)) found.push(Number(entry));
  }
  return found;
}

let work: string;
let echo: EchoServer;
let key: KeyFile;
const boxes: TunnelBox[] = [];
const tunnels: ReverseTunnel[] = [];

async function box(): Promise<TunnelBox> {
  const started = await startTunnelBox();
  boxes.push(started);
  return started;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-tunnel-setup-test-'));
  [echo, key] = await Promise.all([startEchoServer(), keyFile(work, 'host')]);
});

afterAll(async () => {
  await Promise.allSettled(tunnels.map((tunnel) => tunnel.close()));
  await killChildren();
  await Promise.allSettled(boxes.map((started) => started.stop()));
  await echo?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('setup.sh', () => {
  test('run again, it restarts the same box: one sshd, the same host key, open tunnels kept', async () => {
    const first = await box();
    const port = await freePort();
    await writeAuthorizedKeys(first, [tunnelKeyLine(key, port, 'u-host', 'k1')]);
    const tunnel = await openReverseTunnel({ box: first, privateKeyPath: key.path, remotePort: port, target: { host: '127.0.0.1', port: echo.port } });
    tunnels.push(tunnel);
    const [before] = await listeners(first);

    const again = await setupSh(boxArgs(first));
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain(`tunnel box: 127.0.0.1:${first.port}`);
    expect(again.stdout).toContain(`host key: ${first.hostPublicKey} `);
    expect(again.stdout).toContain(`fingerprint: ${first.hostKeyFingerprint}`);

    const after = await listeners(first);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(await readFile(`/run/tmuxme-tunnel-${first.port}.pid`, 'utf8')).toBe(`${after[0]}\n`);
    // Each tunnel lives in its own sshd process, so the restart leaves it up.
    expect(await exchange(port, 'still here\n')).toBe('still here\n');
    // And the restarted sshd still trusts the same file and forces the same command.
    const login = await runSsh([...await sshTo(first, work, key), '-T', 'tunnel@127.0.0.1', 'id']);
    expect(login).toMatchObject({ code: 0, stdout: '' });
    expect(login.stderr).toContain(holdBanner);
  });

  test('lays out the files as StrictModes wants them and keeps every key file', async () => {
    const started = await box();
    await Promise.all([
      writeAuthorizedKeys(started, [tunnelKeyLine(key, 20001, 'u-host', 'k1')]),
      writeAuthorizedKeys(started, [tunnelKeyLine(key, 20002, 'u-host', 'k2')], { user: 'tunnel-private' }),
      writeAuthorizedKeys(started, [joinKeyLine(key, ['127.0.0.1:20001'], 'u-guest', 'k3')], { user: 'join' }),
    ]);
    expect((await setupSh(boxArgs(started))).code).toBe(0);
    const tunnelGid = await groupId('tunnel');
    const keyFiles = [started.authorizedKeysFile, started.privateAuthorizedKeysFile, started.joinAuthorizedKeysFile];
    const [dir, hostKey, hold, ...keys] = await Promise.all(
      [started.dir, join(started.dir, 'ssh_host_ed25519_key'), '/usr/local/bin/tunnel-hold', ...keyFiles].map((path) => stat(path)),
    );
    expect({ uid: dir!.uid, mode: dir!.mode & 0o7777 }).toEqual({ uid: 0, mode: 0o755 });
    for (const file of keys) expect({ uid: file.uid, gid: file.gid, mode: file.mode & 0o7777 }).toEqual({ uid: 0, gid: tunnelGid, mode: 0o640 });
    expect({ uid: hostKey!.uid, mode: hostKey!.mode & 0o7777 }).toEqual({ uid: 0, mode: 0o600 });
    expect({ uid: hold!.uid, mode: hold!.mode & 0o7777 }).toEqual({ uid: 0, mode: 0o755 });
    expect(await Promise.all(keyFiles.map((file) => readFile(file, 'utf8')))).toEqual([
      expect.stringContaining('tmuxme:u-host:k1'), expect.stringContaining('tmuxme:u-host:k2'), expect.stringContaining('tmuxme-join:u-guest:k3'),
    ]);
  });

  test('makes the three users: group tunnel, shell /bin/sh, password * (not the locked !)', async () => {
    await box();
    const [passwd, shadow, tunnelGid] = await Promise.all([readFile('/etc/passwd', 'utf8'), readFile('/etc/shadow', 'utf8'), groupId('tunnel')]);
    for (const user of ['tunnel', 'tunnel-private', 'join']) {
      const [, , , gid, , , shell] = passwd.match(new RegExp(`^${user}:.*$`, 'm'))?.[0].split(':') ?? [];
      expect({ user, gid: Number(gid), shell }).toEqual({ user, gid: tunnelGid, shell: '/bin/sh' });
      expect(shadow.match(new RegExp(`^${user}:([^:]*):`, 'm'))?.[1]).toBe('*');
    }
  });

  test('upgrades a box set up before private leases and the join user: the new files appear, the old keys stay', async () => {
    const started = await box();
    await writeAuthorizedKeys(started, [tunnelKeyLine(key, 20001, 'u-host', 'k1')]);
    await Promise.all([rm(started.privateAuthorizedKeysFile), rm(started.joinAuthorizedKeysFile)]);
    expect((await setupSh(boxArgs(started))).code).toBe(0);
    expect(await readFile(started.authorizedKeysFile, 'utf8')).toContain('tmuxme:u-host:k1');
    for (const file of [started.privateAuthorizedKeysFile, started.joinAuthorizedKeysFile]) {
      const { uid, gid, mode, size } = await stat(file);
      expect({ uid, gid, mode: mode & 0o7777, size }).toEqual({ uid: 0, gid: await groupId('tunnel'), mode: 0o640, size: 0 });
    }
    // And the restarted sshd reads the new file for its user.
    await writeAuthorizedKeys(started, [joinKeyLine(key, ['127.0.0.1:20001'], 'u-guest', 'k3')], { user: 'join' });
    const login = await runSsh([...await sshTo(started, work, key), '-T', 'join@127.0.0.1', 'id']);
    expect(login).toMatchObject({ code: 0, stdout: '' });
    expect(login.stderr).toContain(holdBanner);
  });

  test('stop stops that box only', async () => {
    const [one, other] = await Promise.all([box(), box()]);
    const stopped = await setupSh(['stop', ...boxArgs(one)]);
    expect(stopped.code).toBe(0);
    expect(await listeners(one)).toHaveLength(0);
    expect(await canConnect(one.port)).toBe(false);
    expect(existsSync(`/run/tmuxme-tunnel-${one.port}.pid`)).toBe(false);
    expect(await listeners(other)).toHaveLength(1);
    expect(await canConnect(other.port)).toBe(true);
    // Stopping what is not running is not an error.
    expect((await setupSh(['stop', ...boxArgs(one)])).code).toBe(0);
  });

  test('says so when the port is taken, and leaves another box on it alone', async () => {
    const started = await box();
    const pidFile = `/run/tmuxme-tunnel-${started.port}.pid`;
    const pid = await readFile(pidFile, 'utf8');
    const intruder = `${started.dir}-intruder`;
    try {
      const onBox = await setupSh(['--dir', intruder, '--port', String(started.port)]);
      expect(onBox.code).toBe(1);
      expect(onBox.stderr).toContain(`port ${started.port} already belongs to another tunnel box`);
      expect(await readFile(pidFile, 'utf8')).toBe(pid);
      expect(await listeners(started)).toHaveLength(1);
      expect(existsSync(intruder)).toBe(false);

      const other = createServer();
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      const { port } = other.address() as AddressInfo;
      const onOther = await setupSh(['--dir', intruder, '--port', String(port)]).finally(() => other.close());
      expect(onOther.code).toBe(1);
      expect(onOther.stderr).toContain(`sshd did not start on 127.0.0.1:${port}`);
      expect(onOther.stderr).toContain('Address already in use');
    } finally {
      await rm(intruder, { recursive: true, force: true });
    }
  });

  test('refuses to run without root', async () => {
    const dir = `/var/lib/tmuxme-test/boxes/not-root-${process.pid}`;
    const result = await setupSh(['--dir', dir, '--port', String(await freePort())], 'nobody');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('needs root');
    expect(existsSync(dir)).toBe(false);
  });

  test('refuses a directory sshd would not trust (under /tmp)', async () => {
    const result = await setupSh(['--dir', join(work, 'box'), '--port', String(await freePort())]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('StrictModes');
    expect(existsSync(join(work, 'box'))).toBe(false);
  });
});
