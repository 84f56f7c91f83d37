import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, chown, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { guestAttachCommand } from './guest-command.js';
import { isProcessAlive, withFileLock } from './file-lock.js';
import type { LocalUser } from './local-user.js';

/**
 * The guests' lines in ~tmuxme/.ssh/authorized_keys (docs/architecture.md §6):
 *   restrict,pty,command="<tmux attach>" <type> <blob> tmuxme-guest:<username>:<run marker>
 * Several tmuxme runs (and the machine's admin) share that file, so every
 * edit is a locked read-modify-write that touches only lines carrying a run
 * marker, and writes the file back atomically.
 */

export interface GuestGrant {
  username: string;
  readOnly: boolean;
  /** `<type> <base64>` as the keys API hands them out (a trailing comment is dropped). */
  publicKeys: readonly string[];
}

/** The guests' account: whose file it is, and who must own it. */
export type GuestAccount = Pick<LocalUser, 'uid' | 'gid' | 'home'>;

export interface AddGuestKeysOptions {
  user: GuestAccount;
  /** From newRunMarker(), made once by the process that hosts the session. */
  marker: string;
  tmuxPath: string;
  socket: string;
  guests: readonly GuestGrant[];
}

export type RemoveGuestKeysOptions = Pick<AddGuestKeysOptions, 'user' | 'marker'>;

const keyTypes = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'ssh-rsa',
];
const maxKeyLength = 8192;

// Hostnames may hold characters we would rather not put in a key comment.
const markerHost = hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'localhost';
const markerPattern = /^([A-Za-z0-9.-]+)\.(\d+)\.([0-9a-f]{8})$/;
const ourLine = /^restrict,pty,command="[^"]*" \S+ \S+ tmuxme-guest:[a-z0-9-]+:(\S+)$/;

/** `<hostname>.<pid>.<random>`: tells this run's lines apart, and whether their run is still alive. */
export function newRunMarker(pid: number = process.pid): string {
  return `${markerHost}.${pid}.${randomBytes(4).toString('hex')}`;
}

/** Adds this run's lines for every guest key (idempotent), and sweeps dead runs' leftovers. Returns the lines this run now has. */
export async function addGuestKeys({ user, marker, tmuxPath, socket, guests }: AddGuestKeysOptions): Promise<string[]> {
  if (!markerPattern.test(marker)) throw new Error(`not a run marker: ${JSON.stringify(marker)}`);
  // Everything is checked before the file is touched: one bad key adds nothing.
  const lines = guests.flatMap(({ username, readOnly, publicKeys }) => {
    const command = guestAttachCommand({ tmuxPath, socket, username, readOnly });
    return publicKeys.map((key) => `restrict,pty,command="${command}" ${canonicalPublicKey(key)} tmuxme-guest:${username}:${marker}`);
  });
  await editAuthorizedKeys(user, (segments) => [
    ...lines.filter((line) => !segments.includes(line)),
    // A new file ends in a newline, like any file an editor writes.
    ...(segments.length > 0 ? segments : ['']),
  ]);
  return lines;
}

/** Removes every line this run added, and dead runs' leftovers; every other byte of the file stays as it was. */
export async function removeGuestKeys({ user, marker }: RemoveGuestKeysOptions): Promise<void> {
  await editAuthorizedKeys(user, (segments) => segments.filter((segment) => runOf(segment) !== marker));
}

/**
 * Removes the lines of runs on this host whose process is gone (they crashed
 * before cleaning up); says whose they were. Every edit above does this too.
 */
export async function removeAbandonedGuestKeys(user: GuestAccount): Promise<string[]> {
  const swept = await editAuthorizedKeys(user, (segments) => segments);
  return swept.map((segment) => `${segment.split(' ').at(-1)!.split(':')[1]}'s key, left by run ${runOf(segment)}`);
}

export function authorizedKeysPath(user: Pick<LocalUser, 'home'>): string {
  return join(user.home, '.ssh', 'authorized_keys');
}

/**
 * `<type> <base64>` for a key that is one printable line of a known type whose
 * blob really holds that type; anything else (a newline, a quote, options in
 * front, a second key) is refused, since it would end up inside sshd's file.
 */
export function canonicalPublicKey(input: string): string {
  const trimmed = input.trim();
  if (trimmed.length > maxKeyLength || /[^\x20-\x7e]|"/.test(trimmed)) throw new Error('not a single-line SSH public key');
  const [type = '', blob = ''] = trimmed.split(' ');
  if (!keyTypes.includes(type)) throw new Error(`not an accepted SSH key type: ${JSON.stringify(type.slice(0, 40))}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) throw new Error('the SSH key is not base64');
  const decoded = Buffer.from(blob, 'base64');
  const innerLength = decoded.length >= 4 ? decoded.readUInt32BE(0) : -1;
  const innerType = decoded.subarray(4, 4 + innerLength).toString('latin1');
  if (innerType !== type || decoded.toString('base64') !== blob) throw new Error(`the SSH key's blob is not a ${type} key`);
  return `${type} ${blob}`;
}

/** The run marker of one of our lines, undefined for any other line. */
function runOf(segment: string): string | undefined {
  return ourLine.exec(segment)?.[1];
}

/** A line of a run that ran on this host and is gone: it crashed before removing its lines. */
function isAbandoned(segment: string): boolean {
  const run = markerPattern.exec(runOf(segment) ?? '');
  return run !== null && run[1] === markerHost && !isProcessAlive(Number(run[2]));
}

/**
 * Locked read-modify-write. `change` gets the file split at '\n' (the last
 * piece is '' when the file ends in a newline), so joining the pieces it keeps
 * gives back every other line byte for byte, trailing newline or not. New
 * lines go first, each with its own '\n', which leaves the old end untouched.
 * Returns the abandoned lines it swept on the way.
 */
async function editAuthorizedKeys(user: GuestAccount, change: (segments: string[]) => string[]): Promise<string[]> {
  const uid = process.getuid?.();
  if (uid !== 0 && uid !== user.uid) throw new Error(`editing ${authorizedKeysPath(user)} needs root: run tmuxme as root (e.g. \`sudo -E tmuxme …\`)`);
  const sshDir = await ensureSshDirectory(user);
  return withFileLock(join(sshDir, 'authorized_keys.lock'), async () => {
    const file = authorizedKeysPath(user);
    const before = await readKeepingBytes(file);
    const segments = before === '' ? [] : before.split('\n');
    const abandoned = segments.filter(isAbandoned);
    const after = change(segments.filter((segment) => !abandoned.includes(segment))).join('\n');
    if (after !== before) await replaceAtomically(file, after, user);
    return abandoned;
  }, { owner: user });
}

async function ensureSshDirectory(user: GuestAccount): Promise<string> {
  const sshDir = join(user.home, '.ssh');
  const existing = await lstat(sshDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing && !existing.isDirectory()) throw new Error(`${sshDir} is not a directory (a symlink?): refusing to write keys through it`);
  if (!existing) await mkdir(sshDir, { mode: 0o700 });
  // sshd's StrictModes ignores the keys unless the directory is the user's (or root's) and private.
  if (!existing || existing.uid !== user.uid || (existing.mode & 0o077) !== 0) {
    await chown(sshDir, user.uid, user.gid);
    await chmod(sshDir, 0o700);
  }
  return sshDir;
}

/** latin1 maps each byte to one character and back, so lines we do not understand survive unchanged. */
async function readKeepingBytes(file: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
  try {
    return await handle.readFile('latin1');
  } finally {
    await handle.close();
  }
}

/** Temp file in the same directory, fsync, owner and 0600, rename, fsync the directory: sshd sees the old file or the new one. */
async function replaceAtomically(file: string, content: string, user: Pick<LocalUser, 'uid' | 'gid'>): Promise<void> {
  const dir = dirname(file);
  const temp = join(dir, `.authorized_keys.${process.pid}.${randomBytes(4).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(content, 'latin1');
      await handle.sync();
      await handle.chown(user.uid, user.gid);
      await handle.chmod(0o600);
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
