import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidOfAnExitedProcess } from '../../test/exited-process.js';
import { isProcessAlive, withFileLock } from './file-lock.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tmuxme-lock-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an exclusive lock file', () => {
  it('names its holder while held and is gone afterwards', async () => {
    const lock = join(dir, 'held.lock');
    const seen = await withFileLock(lock, () => readFile(lock, 'utf8'));
    expect(seen).toBe(`${hostname()} ${process.pid}\n`);
    expect(existsSync(lock)).toBe(false);
  });

  it('lets one holder in at a time', async () => {
    const lock = join(dir, 'turns.lock');
    let inside = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 5 }, () => withFileLock(lock, async () => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inside -= 1;
    })));
    expect(most).toBe(1);
  });

  it('is taken over from a holder on this host that died', async () => {
    const lock = join(dir, 'crashed.lock');
    await writeFile(lock, `${hostname()} ${await pidOfAnExitedProcess()}\n`);
    await expect(withFileLock(lock, async () => 'got it', { timeoutMs: 2_000 })).resolves.toBe('got it');
  });

  it('is waited for while its holder lives, or sits on another host', async () => {
    for (const holder of [`${hostname()} ${process.ppid}`, `elsewhere.example ${await pidOfAnExitedProcess()}`]) {
      const lock = join(dir, 'alive.lock');
      await writeFile(lock, `${holder}\n`);
      await expect(withFileLock(lock, async () => 'got it', { timeoutMs: 300 })).rejects.toThrow(`timed out waiting for the lock ${lock}`);
      expect(await readFile(lock, 'utf8')).toBe(`${holder}\n`);
      await rm(lock);
    }
  });

  it('is released when the work fails', async () => {
    const lock = join(dir, 'failing.lock');
    await expect(withFileLock(lock, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });
});

describe('isProcessAlive', () => {
  it('tells a running process from one that exited', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    // Init always runs; as a user who may not signal it, EPERM still means alive.
    expect(isProcessAlive(1)).toBe(true);
    expect(isProcessAlive(await pidOfAnExitedProcess())).toBe(false);
  });
});
