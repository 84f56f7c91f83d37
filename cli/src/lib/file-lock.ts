import { open, stat, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { hostname } from 'node:os';

export interface FileLockOptions {
  /** Give up (and say which lock file is in the way) after this long. */
  timeoutMs?: number;
  /** Who should own the lock file, when we write as root into someone else's directory. */
  owner?: { uid: number; gid: number };
}

// A lock file whose holder never wrote its pid is only trusted this long: the
// holder writes it right after creating the file.
const unnamedLockGraceMs = 30_000;

/**
 * Runs `work` while holding an exclusive lock file (created with O_EXCL, so
 * only one process on the machine, or on a shared filesystem, gets it). The
 * file names its holder (`<hostname> <pid>`); a holder on this host that is no
 * longer running left it behind by crashing, and it is taken over.
 */
export async function withFileLock<T>(lockPath: string, work: () => Promise<T>, { timeoutMs = 15_000, owner }: FileLockOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let ino: number;
  for (;;) {
    const acquired = await tryCreate(lockPath, owner);
    if (acquired !== undefined) {
      ino = acquired;
      break;
    }
    if (await removeIfStale(lockPath)) continue;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lockPath}; if no other tmuxme is running, delete it`);
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 60));
  }
  try {
    return await work();
  } finally {
    // Only our own file: if it was (wrongly) broken and re-taken, the new holder keeps it.
    if ((await stat(lockPath).catch(() => undefined))?.ino === ino) await unlink(lockPath).catch(() => {});
  }
}

/** The lock file's inode when we created it, undefined when someone else holds it. */
async function tryCreate(lockPath: string, owner: FileLockOptions['owner']): Promise<number | undefined> {
  let file;
  try {
    file = await open(lockPath, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  try {
    if (owner) await file.chown(owner.uid, owner.gid);
    await file.writeFile(`${hostname()} ${process.pid}\n`);
    return (await file.stat()).ino;
  } finally {
    await file.close();
  }
}

async function removeIfStale(lockPath: string): Promise<boolean> {
  let file;
  try {
    file = await open(lockPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    // Released in the meantime: try again at once.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  let stale: boolean;
  let ino: number;
  try {
    const info = await file.stat();
    ino = info.ino;
    const holder = /^(\S+) (\d+)\n$/.exec(await file.readFile('utf8'));
    stale = holder
      ? holder[1] === hostname() && !isProcessAlive(Number(holder[2]))
      : Date.now() - info.mtimeMs > unnamedLockGraceMs;
  } finally {
    await file.close();
  }
  // Unlink only the file we judged: another process may have broken it and
  // made a fresh one in the meantime (a tiny window remains between these two steps).
  if (stale && (await stat(lockPath).catch(() => undefined))?.ino === ino) {
    await unlink(lockPath).catch(() => {});
    return true;
  }
  return false;
}

/** True while a process with this pid exists on this machine (it may belong to another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
