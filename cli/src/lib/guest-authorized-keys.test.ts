import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSshKey } from '@tmuxme/testing';
import { pidOfAnExitedProcess } from '../../test/exited-process.js';
import { createThrowawayGuestUser, deleteThrowawayUsers } from '../../test/throwaway-users.js';
import {
  addGuestKeys, authorizedKeysPath, canonicalPublicKey, newRunMarker, removeAbandonedGuestKeys, removeGuestKeys, type GuestGrant,
} from './guest-authorized-keys.js';
import type { LocalUser } from './local-user.js';

const run = promisify(execFile);
const tmux = { tmuxPath: '/usr/bin/tmux', socket: '/tmp/tmuxme-0/s-test/socket' };

let user: LocalUser;
let file: string;
let aliceKey: string;
let bobKey: string;

beforeAll(async () => {
  user = await createThrowawayGuestUser();
  file = authorizedKeysPath(user);
  const [aliceKeyPair, bobKeyPair] = await Promise.all([generateSshKey('ed25519'), generateSshKey('ecdsa')]);
  aliceKey = aliceKeyPair.publicKey;
  bobKey = bobKeyPair.publicKey;
});

afterAll(deleteThrowawayUsers);

beforeEach(async () => {
  await rm(`${user.home}/.ssh`, { recursive: true, force: true });
});

/** The file as someone else left it, before any tmuxme run. */
async function writeOthersLines(): Promise<void> {
  await mkdir(`${user.home}/.ssh`, { mode: 0o700 });
  await writeFile(file, othersLines);
}

const alice = (): GuestGrant => ({ username: 'alice', readOnly: false, publicKeys: [aliceKey] });
const bob = (): GuestGrant => ({ username: 'bob', readOnly: true, publicKeys: [bobKey] });
const blob = (key: string) => key.split(' ').slice(0, 2).join(' ');

// What the admin (or another tool) keeps in the file: comments, blank lines,
// CRLF, a byte that is not UTF-8, and no newline at the end.
const othersLines = Buffer.concat([
  Buffer.from('# managed by hand\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherAdminKeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxx admin@laptop\r\n'),
  Buffer.from([0x23, 0x20, 0xff, 0xfe, 0x0a]),
  Buffer.from('from="10.0.0.1" ssh-rsa AAAAB3NzaC1yc2E= last line without newline'),
]);

describe('guest lines in authorized_keys', () => {
  it('are added in the documented form, private to the guests\' user, and taken out leaving every other byte', async () => {
    await writeOthersLines();
    const marker = newRunMarker();

    const added = await addGuestKeys({ user, marker, ...tmux, guests: [alice(), bob()] });

    expect(added).toEqual([
      `restrict,pty,command="/usr/bin/tmux -S ${tmux.socket} attach-session \\; display-message 'tmux.me: joined as alice'" ${blob(aliceKey)} tmuxme-guest:alice:${marker}`,
      `restrict,pty,command="/usr/bin/tmux -S ${tmux.socket} attach-session -r \\; display-message 'tmux.me: joined as bob (read-only)'" ${blob(bobKey)} tmuxme-guest:bob:${marker}`,
    ]);
    expect(await readFile(file)).toEqual(Buffer.concat([Buffer.from(added.map((line) => `${line}\n`).join('')), othersLines]));
    const [fileInfo, dirInfo] = await Promise.all([stat(file), stat(`${user.home}/.ssh`)]);
    expect([fileInfo.uid, fileInfo.gid, fileInfo.mode & 0o777]).toEqual([user.uid, user.gid, 0o600]);
    expect([dirInfo.uid, dirInfo.gid, dirInfo.mode & 0o777]).toEqual([user.uid, user.gid, 0o700]);

    await removeGuestKeys({ user, marker });
    expect(await readFile(file)).toEqual(othersLines);
    expect(existsSync(`${user.home}/.ssh/authorized_keys.lock`)).toBe(false);
  });

  it('start a missing file with a newline at the end, and leave it empty again', async () => {
    const marker = newRunMarker();
    const [line] = await addGuestKeys({ user, marker, ...tmux, guests: [alice()] });
    expect(await readFile(file, 'utf8')).toBe(`${line}\n`);
    await removeGuestKeys({ user, marker });
    expect(await readFile(file, 'utf8')).toBe('');
  });

  it('are added once however often the same run adds them, and removing twice is harmless', async () => {
    await writeOthersLines();
    const marker = newRunMarker();
    await addGuestKeys({ user, marker, ...tmux, guests: [alice()] });
    const once = await readFile(file);
    await addGuestKeys({ user, marker, ...tmux, guests: [alice()] });
    expect(await readFile(file)).toEqual(once);
    await removeGuestKeys({ user, marker });
    await removeGuestKeys({ user, marker });
    expect(await readFile(file)).toEqual(othersLines);
  });

  it('of another run on this machine stay when this run removes its own, even for the same guest', async () => {
    const ours = newRunMarker();
    const theirs = newRunMarker();
    const [theirLine] = await addGuestKeys({ user, marker: theirs, ...tmux, guests: [alice()] });
    await addGuestKeys({ user, marker: ours, ...tmux, guests: [alice(), bob()] });
    await removeGuestKeys({ user, marker: ours });
    expect(await readFile(file, 'utf8')).toBe(`${theirLine}\n`);
  });

  it('left by a run that died are swept by the next run, but not those of other hosts', async () => {
    await writeOthersLines();
    const deadRun = newRunMarker(await pidOfAnExitedProcess());
    const otherHostRun = `elsewhere.example.${process.pid}.0123abcd`;
    const [otherHostLine] = await addGuestKeys({ user, marker: otherHostRun, ...tmux, guests: [bob()] });
    // Added after the other line, since adding sweeps: as if that run crashed right after.
    await addGuestKeys({ user, marker: deadRun, ...tmux, guests: [alice()] });

    expect(await removeAbandonedGuestKeys(user)).toEqual([`alice's key, left by run ${deadRun}`]);
    expect(await readFile(file)).toEqual(Buffer.concat([Buffer.from(`${otherHostLine}\n`), othersLines]));

    // Any edit sweeps too.
    await addGuestKeys({ user, marker: deadRun, ...tmux, guests: [alice()] });
    const marker = newRunMarker();
    await addGuestKeys({ user, marker, ...tmux, guests: [bob()] });
    await removeGuestKeys({ user, marker });
    expect(await readFile(file)).toEqual(Buffer.concat([Buffer.from(`${otherHostLine}\n`), othersLines]));
    expect(hostname()).not.toBe('elsewhere.example');
  });

  it.each([
    ['a username with a quote', { username: 'alice" evil', readOnly: false, publicKeys: () => aliceKey }],
    ['a username with a newline', { username: 'alice\nssh-ed25519', readOnly: false, publicKeys: () => aliceKey }],
    ['a key with a second line', { username: 'alice', readOnly: false, publicKeys: () => `${blob(aliceKey)}\n${blob(bobKey)}` }],
    ['a key with options in front', { username: 'alice', readOnly: false, publicKeys: () => `command="sh" ${blob(aliceKey)}` }],
    ['a key with a quote in its comment', { username: 'alice', readOnly: false, publicKeys: () => `${blob(aliceKey)} x" y` }],
    ['a key whose blob is another type', { username: 'alice', readOnly: false, publicKeys: () => `ssh-rsa ${blob(aliceKey).split(' ')[1]}` }],
    ['a DSA key', { username: 'alice', readOnly: false, publicKeys: () => 'ssh-dss AAAAB3NzaC1kc3M=' }],
    ['a key that is not base64', { username: 'alice', readOnly: false, publicKeys: () => 'ssh-ed25519 AAAA$(reboot)' }],
  ])('refuse %s, and add nothing at all', async (_what, { username, readOnly, publicKeys }) => {
    await writeOthersLines();
    const guests = [alice(), { username, readOnly, publicKeys: [publicKeys()] }];
    await expect(addGuestKeys({ user, marker: newRunMarker(), ...tmux, guests })).rejects.toThrow();
    expect(await readFile(file)).toEqual(othersLines);
  });

  it('keep a key\'s canonical form and drop its comment', () => {
    expect(canonicalPublicKey(`  ${aliceKey}`)).toBe(blob(aliceKey));
  });

  it('added by two processes at once all survive', async () => {
    const perProcess = 15;
    // The markers come from this (living) process, as a privileged helper would be handed them.
    const markers = [newRunMarker(), newRunMarker()];
    const module = fileURLToPath(new URL('./guest-authorized-keys.ts', import.meta.url));
    const adder = (marker: string, prefix: string) => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      const { addGuestKeys } = await import(${JSON.stringify(module)});
      const [user, marker, tmux, key] = JSON.parse(process.argv[1]);
      for (let i = 0; i < ${perProcess}; i += 1) {
        await addGuestKeys({ user, marker, ...tmux, guests: [{ username: '${prefix}' + i, readOnly: false, publicKeys: [key] }] });
      }`, JSON.stringify([user, marker, tmux, aliceKey])]);
    await writeOthersLines();

    await Promise.all([adder(markers[0]!, 'left'), adder(markers[1]!, 'right')]);

    const lines = (await readFile(file, 'latin1')).split('\n');
    for (const [marker, prefix] of [[markers[0], 'left'], [markers[1], 'right']]) {
      expect(lines.filter((line) => line.endsWith(`:${marker}`)).map((line) => /tmuxme-guest:([a-z0-9-]+):/.exec(line)![1]).sort())
        .toEqual(Array.from({ length: perProcess }, (_, i) => `${prefix}${i}`).sort());
    }
    for (const marker of markers) await removeGuestKeys({ user, marker: marker! });
    expect(await readFile(file)).toEqual(othersLines);
  }, 60_000);
});
