import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthorizedKeysWriter } from '../src/domain/authorized-keys-writer.js';
import { ensureTunnelAccount, pollFile, withTempDir } from './support.js';

/** The writer against the real filesystem, as root: what sshd's StrictModes and a reader see. */
let gid: number;

beforeAll(async () => {
  gid = await ensureTunnelAccount();
});

/** Self-describing content, so a reader can tell a whole file from a cut-off one. */
function counted(n: number): string {
  const body = Array.from({ length: n }, (_, i) => `line ${i} ${'x'.repeat(60)}\n`).join('');
  return `# n=${n}\n${body}# end n=${n}\n`;
}

describe('AuthorizedKeysWriter', () => {
  it('writes root:tunnel 0640, and leaves an unchanged file alone', () => withTempDir(async (dir) => {
    const file = join(dir, 'authorized_keys');
    let content = 'first\n';
    const writer = new AuthorizedKeysWriter({ file, group: 'tunnel', render: () => content });
    expect(await writer.request()).toBe('written');
    const first = await stat(file);
    expect({ uid: first.uid, gid: first.gid, mode: first.mode & 0o777 }).toEqual({ uid: 0, gid, mode: 0o640 });
    expect(await readFile(file, 'utf8')).toBe('first\n');

    expect(await writer.request()).toBe('unchanged');
    expect((await stat(file)).ino).toBe(first.ino);
    content = 'second\n';
    expect(await writer.request()).toBe('written');
    expect((await stat(file)).ino).not.toBe(first.ino);
    expect(writer.writes).toBe(2);
    expect(await readdir(dir)).toEqual(['authorized_keys']);
    await writer.close();
  }));

  it('renders at once for a lone request: no debounce', () => withTempDir(async (dir) => {
    let renders = 0;
    const writer = new AuthorizedKeysWriter({ file: join(dir, 'authorized_keys'), group: 'tunnel', render: () => `${++renders}\n` });
    const written = writer.request();
    expect(renders).toBe(1);
    await written;
    await writer.close();
  }));

  it('never shows a reader a partial file or another owner or mode across 2,000 renders', () => withTempDir(async (dir) => {
    const file = join(dir, 'authorized_keys');
    let n = 0;
    const writer = new AuthorizedKeysWriter({ file, group: 'tunnel', render: () => counted(n) });
    await writer.request();
    const poller = await pollFile(file, gid, 'counted');
    for (let i = 1; i <= 2000; i += 1) {
      n = 200 + (i % 7) * 300; // files of 13 to 140 KB, so a torn write would show
      expect(await writer.request()).toBe('written');
    }
    const seen = await poller.stop();

    expect(seen.problems).toEqual([]);
    expect(seen.reads).toBeGreaterThan(1000);
    expect(writer.writes).toBe(2001);
    expect(await readFile(file, 'utf8')).toBe(counted(n));
    await writer.close();
  }), 120_000);

  it('folds a burst of requests into the write in flight and one more, which has the final state', () => withTempDir(async (dir) => {
    const file = join(dir, 'authorized_keys');
    let n = 0;
    let renders = 0;
    const writer = new AuthorizedKeysWriter({ file, group: 'tunnel', render: () => { renders += 1; return counted(n); } });
    const requests: Promise<unknown>[] = [];
    for (let i = 1; i <= 2000; i += 1) {
      n = i;
      requests.push(writer.request());
    }
    await Promise.all(requests);
    expect({ renders, writes: writer.writes }).toEqual({ renders: 2, writes: 2 });
    expect(await readFile(file, 'utf8')).toBe(counted(2000));
    await writer.close();
  }));

  it('removes temp files a crashed writer left behind, and fails loudly without the group', () => withTempDir(async (dir) => {
    const file = join(dir, 'authorized_keys');
    await writeFile(join(dir, '.authorized_keys.tmp-deadbeef'), 'half a fi');
    await writeFile(join(dir, 'unrelated'), 'kept');
    const writer = new AuthorizedKeysWriter({ file, group: 'tunnel', render: () => 'x\n' });
    await writer.request();
    expect((await readdir(dir)).sort()).toEqual(['authorized_keys', 'unrelated']);
    await writer.close();

    const lost = new AuthorizedKeysWriter({ file, group: 'no-such-group-here', render: () => 'y\n' });
    await expect(lost.request()).rejects.toThrow('there is no group "no-such-group-here"');
    expect(lost.healthy).toBe(false);
    await lost.close();
    expect(await readFile(file, 'utf8')).toBe('x\n');
  }));
});
