import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn as spawnPty } from '@lydell/node-pty';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A child that writes until its terminal or pipe goes away (test/write-until-gone.ts), as a host run does. */
const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const child = ['--import', 'tsx', 'test/write-until-gone.ts'];
const env = { PATH: process.env.PATH!, TSX_TSCONFIG_PATH: join(cliDir, 'tsconfig.json') };

let work: string;
let runs = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-streams-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Reads the child's stdout until it has written, then closes the pipe; resolves with its exit, its stderr and its report. */
async function readerGoesAway(mode?: 'unguarded') {
  runs += 1;
  const report = join(work, `report-${runs}`);
  const writer = spawn(process.execPath, [...child, report, ...(mode ? [mode] : [])], { cwd: cliDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  writer.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  await new Promise((done) => writer.stdout!.once('data', done));
  writer.stdout!.destroy();
  const code = await new Promise<number | null>((done) => writer.once('close', done));
  return { code, stderr, report: await readFile(report, 'utf8').then(JSON.parse, () => undefined) };
}

describe('standard streams that go away', () => {
  it('a pipe whose reader went away: told once, exit 141, no error', async () => {
    const { code, stderr, report } = await readerGoesAway();
    expect(report).toEqual({ reason: 'the program reading its output went away', exitCode: 141 });
    expect(code).toBe(141);
    expect(stderr).not.toMatch(/Error|EPIPE/);
  }, 20_000);

  it('without the guard, the same write kills the process with an unhandled error (what the guard is for)', async () => {
    const { code, stderr, report } = await readerGoesAway('unguarded');
    expect(report).toBeUndefined();
    expect(code).toBe(1);
    expect(stderr).toContain("Unhandled 'error' event");
  }, 20_000);

  it('a terminal that closed: the next write fails with EIO, told once, exit 129 (and not Node 20\'s abort at exit)', async () => {
    runs += 1;
    const report = join(work, `report-${runs}`);
    const terminal = spawnPty(process.execPath, [...child, report], { cwd: cliDir, env, cols: 80, rows: 24 });
    const exited = new Promise<number>((done) => terminal.onExit(({ exitCode }) => done(exitCode)));
    await new Promise<void>((done) => { const once = terminal.onData(() => { once.dispose(); done(); }); });
    // Closes our side of the pty, as a terminal window that is closed does (the typings leave destroy() out).
    (terminal as typeof terminal & { destroy(): void }).destroy();
    expect(await exited).toBe(129);
    expect(JSON.parse(await readFile(report, 'utf8'))).toEqual({ reason: 'the terminal closed', exitCode: 129 });
  }, 20_000);
});
