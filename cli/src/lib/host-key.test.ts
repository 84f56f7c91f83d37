import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { HostKeyPermissionsError, hostKeyPath, loadHostKey } from './host-key.js';

const run = promisify(execFile);

let home: string;
let file: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'tmuxme-host-key-'));
  file = hostKeyPath({ HOME: home, XDG_CONFIG_HOME: join(home, 'xdg') });
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('the machine\'s host key', () => {
  it('lives beside the config file, under XDG_CONFIG_HOME or ~/.config', () => {
    expect(file).toBe(join(home, 'xdg', 'tmuxme', 'host_ed25519'));
    expect(hostKeyPath({ HOME: home })).toBe(join(home, '.config', 'tmuxme', 'host_ed25519'));
  });

  it('is created on first use, 0600 in a 0700 directory, as an ed25519 key OpenSSH reads the same way', async () => {
    const key = await loadHostKey(file);
    expect(await mode(file)).toBe(0o600);
    expect(await mode(dirname(file))).toBe(0o700);
    expect(await readdir(dirname(file))).toEqual(['host_ed25519']);
    expect(key.publicKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=*$/);

    const { stdout: derived } = await run('ssh-keygen', ['-y', '-f', file]);
    expect(derived.trim().split(' ').slice(0, 2).join(' ')).toBe(key.publicKey);
    await writeFile(join(home, 'host.pub'), `${key.publicKey}\n`);
    const { stdout: listed } = await run('ssh-keygen', ['-l', '-f', join(home, 'host.pub')]);
    expect(listed.split(' ')[1]).toBe(key.fingerprint);
  });

  it('is the same key on every later use', async () => {
    const first = await loadHostKey(file);
    const again = await loadHostKey(file);
    expect(again).toEqual(first);
  });

  it('is one key when several tmuxme create it at once', async () => {
    const keys = await Promise.all([1, 2, 3, 4].map(() => loadHostKey(file)));
    expect(new Set(keys.map((key) => key.publicKey)).size).toBe(1);
    expect(keys[0]!.publicKey).toBe((await loadHostKey(file)).publicKey);
    expect(await readdir(dirname(file))).toEqual(['host_ed25519']);
  });

  it('takes a key ssh-keygen made', async () => {
    await loadHostKey(file);
    await rm(file);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    const { stdout: publicLine } = await run('ssh-keygen', ['-y', '-f', file]);
    expect((await loadHostKey(file)).publicKey).toBe(publicLine.trim().split(' ').slice(0, 2).join(' '));
  });

  it('is refused when its group or others may read it, naming the file and the fix, and left as it was', async () => {
    const key = await loadHostKey(file);
    for (const loose of [0o640, 0o604, 0o660]) {
      await chmod(file, loose);
      const refusal = loadHostKey(file);
      await expect(refusal).rejects.toBeInstanceOf(HostKeyPermissionsError);
      await expect(refusal).rejects.toThrow(`chmod 600 ${file}`);
      expect(await mode(file)).toBe(loose);
    }
    await chmod(file, 0o600);
    expect((await loadHostKey(file)).publicKey).toBe(key.publicKey);
  });

  it('is refused when the file is not a private key, and never overwritten', async () => {
    await loadHostKey(file);
    await writeFile(file, 'not a key\n', { mode: 0o600 });
    await expect(loadHostKey(file)).rejects.toThrow(`${file} is not an OpenSSH private key`);
    expect(await readFile(file, 'utf8')).toBe('not a key\n');
  });
});
