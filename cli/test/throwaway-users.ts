import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { ensureLocalUser, type LocalUser } from '../src/lib/local-user.js';

const run = promisify(execFile);
const made: string[] = [];

/**
 * Tests never touch the machine's real `tmuxme` account: each makes its own,
 * named `tmuxme-t<random>`, and deleteThrowawayUsers() removes them again.
 * useradd and userdel need root: without it these tests fail, never skip.
 */
export function throwawayUserName(): string {
  const name = `tmuxme-t${randomBytes(3).toString('hex')}`;
  made.push(name);
  return name;
}

/** A guests' account made the product's way (as root, so nothing needs explaining). */
export async function createThrowawayGuestUser(): Promise<LocalUser> {
  if (process.getuid?.() !== 0) throw new Error('these tests create local users: run them as root');
  return ensureLocalUser({ name: throwawayUserName(), explain: refuseSudo });
}

export function refuseSudo(reason: string): never {
  throw new Error(`root should not need sudo, yet was told: ${reason}`);
}

/** Tests end their own processes of these users first (userdel refuses a user still running something). */
export async function deleteThrowawayUsers(): Promise<void> {
  for (const name of made.splice(0)) {
    await run('userdel', ['--remove', name]).catch(() => {});
    await run('groupdel', [name]).catch(() => {});
  }
}
