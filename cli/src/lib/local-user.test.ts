import { afterEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { deleteThrowawayUsers, refuseSudo, throwawayUserName } from '../../test/throwaway-users.js';
import { ensureLocalUser, findLocalUser } from './local-user.js';

const run = promisify(execFile);

afterEach(deleteThrowawayUsers);

describe('the guests\' local user', () => {
  it('is created with /bin/sh, its own group and a home it owns, once', async () => {
    expect(process.getuid?.()).toBe(0);
    const name = throwawayUserName();
    expect(await findLocalUser(name)).toBeUndefined();

    const user = await ensureLocalUser({ name, explain: refuseSudo });

    const { stdout: passwd } = await run('getent', ['passwd', name]);
    expect(passwd.trim()).toBe(`${name}:x:${user.uid}:${user.gid}:tmux.me guests:/home/${name}:/bin/sh`);
    const { stdout: group } = await run('getent', ['group', name]);
    expect(group.split(':')[2]).toBe(String(user.gid));
    const home = await stat(user.home);
    expect([home.uid, home.isDirectory()]).toEqual([user.uid, true]);
    // sshd's StrictModes ignores keys under a group- or world-writable home.
    expect(home.mode & 0o022).toBe(0);
    // `*`, not the locked `!`: sshd without PAM refuses locked accounts even for keys.
    const { stdout: shadow } = await run('getent', ['shadow', name]);
    expect(shadow.split(':')[1]).toBe('*');

    expect(await ensureLocalUser({ name, explain: refuseSudo })).toEqual(user);
    expect(await findLocalUser(name)).toEqual(user);
  });

  it('repairs an account whose shell would stop the forced command, and a group left behind', async () => {
    const name = throwawayUserName();
    await run('groupadd', ['--system', name]);
    await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--gid', 'nogroup', name]);
    expect(await findLocalUser(name)).toBeUndefined();

    const user = await ensureLocalUser({ name, explain: refuseSudo });

    const { stdout: passwd } = await run('getent', ['passwd', name]);
    expect(passwd.trim().split(':').at(-1)).toBe('/bin/sh');
    const { stdout: group } = await run('getent', ['group', name]);
    expect(group.trim()).toBe(`${name}:x:${user.gid}:${name}`);
  });

  it('refuses a name that is not a plain user name', async () => {
    await expect(ensureLocalUser({ name: 'evil;rm -rf /', explain: refuseSudo })).rejects.toThrow(/not a safe local user name/);
  });
});
