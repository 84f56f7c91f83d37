import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What each command loads: a command starts at once only if nothing it does not need is imported.
 * The CLI runs from its sources with a resolve hook (trace-imports.mjs) that lists every module it
 * imports; the server is a closed port, so each command fails fast after it has loaded what it needs.
 */
const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const heavy = ['ink', 'react', 'ssh2', '@lydell/node-pty'] as const;

let work: string;
let runs = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-loads-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The packages (of `heavy`) that `tmuxme <args>` imported, and how it exited. */
async function packagesLoadedBy(args: string[], env: Record<string, string> = {}): Promise<{ loaded: string[]; code: number | null; modules: number }> {
  runs += 1;
  const trace = join(work, `trace-${runs}`);
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/trace-imports.mjs', 'src/bin/tmuxme.ts', ...args], {
    cwd: cliDir,
    env: {
      PATH: process.env.PATH!, HOME: work, XDG_CONFIG_HOME: join(work, 'config'), TSX_TSCONFIG_PATH: join(cliDir, 'tsconfig.json'),
      TRACE_IMPORTS_FILE: trace, TMUXME_SERVER: 'http://127.0.0.1:9', ...env,
    },
    stdio: 'ignore',
  });
  const code = await new Promise<number | null>((done) => child.once('close', done));
  const urls = (await readFile(trace, 'utf8')).split('\n').filter(Boolean);
  const loaded = heavy.filter((name) => urls.some((url) => url.includes(`/node_modules/${name}/`)));
  return { loaded, code, modules: urls.length };
}

describe('what a command loads', () => {
  it.each([
    ['--help'], ['--version'], ['keys', '--help'], ['host', '--help'], ['sessions'], ['keys'], ['join', 'abc123'],
  ])('`tmuxme %s` loads neither Ink, React, ssh2 nor the pty', async (...args) => {
    const { loaded, modules } = await packagesLoadedBy(args);
    expect(modules).toBeGreaterThan(5);
    expect(loaded).toEqual([]);
  }, 20_000);

  it.each([['--json'], ['--no-tui']])('hosting with %s loads ssh2 and the pty, and neither Ink nor React', async (flag) => {
    // Signed in, so the host flow gets as far as loading its backend before the closed port stops it.
    const { loaded, code } = await packagesLoadedBy([flag, 'alice'], { TMUXME_TOKEN: 'tmx_not-a-real-token' });
    expect(code).toBe(1);
    expect(loaded).toEqual(['ssh2', '@lydell/node-pty']);
  }, 20_000);
});
