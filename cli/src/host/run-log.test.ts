import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pidOfAnExitedProcess } from '../../test/exited-process.js';
import { previousRunReport, RunLog, runLogPath } from './run-log.js';

let home: string;
let env: Record<string, string>;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'tmuxme-run-log-'));
  env = { HOME: home, XDG_STATE_HOME: join(home, 'state') };
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** A log as a run that died left it: its header names a process that is gone, and no exit line follows. */
async function logOfADeadRun(lines: string[]): Promise<string> {
  const path = runLogPath(env);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, [`tmuxme run ${await pidOfAnExitedProcess()} started 2026-12-07T14:05:00.000Z: tmuxme alice`, ...lines, ''].join('\n'));
  return path;
}

describe('the run log', () => {
  it('lives under XDG_STATE_HOME, else ~/.local/state', () => {
    expect(runLogPath(env)).toBe(join(home, 'state', 'tmuxme', 'last-run.log'));
    expect(runLogPath({ HOME: home })).toBe(join(home, '.local', 'state', 'tmuxme', 'last-run.log'));
  });

  it('is a 0600 file in a 0700 directory, each line timed, closed by the exit status', async () => {
    const log = RunLog.open('tmuxme alice bob:ro', env);
    log.write('[ok] Lease a port on the tunnel box (0.1 s): port 20001 on box');
    log.finish(0);
    expect(await mode(log.path)).toBe(0o600);
    expect(await mode(dirname(log.path))).toBe(0o700);
    const lines = (await readFile(log.path, 'utf8')).split('\n');
    expect(lines[0]).toMatch(new RegExp(`^tmuxme run ${process.pid} started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: tmuxme alice bob:ro$`));
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d \[ok\] Lease a port on the tunnel box \(0\.1 s\): port 20001 on box$/),
      expect.stringMatching(/^\d\d:\d\d:\d\d exit 0$/), '',
    ]);
    log.write('after the end');
    expect(await readFile(log.path, 'utf8')).not.toContain('after the end');
  });

  it('stops no run where it cannot be written: it says why, and its lines go nowhere', async () => {
    await writeFile(join(home, 'not-a-directory'), '');
    const log = RunLog.open('tmuxme alice', { HOME: home, XDG_STATE_HOME: join(home, 'not-a-directory') });
    expect(log.failure).toMatch(/ENOTDIR|EEXIST/);
    log.write('nowhere');
    log.finish(0);
  });

  it('each run replaces the last one\'s', async () => {
    RunLog.open('tmuxme alice', env).finish(0);
    const second = RunLog.open('tmuxme bob', env);
    const text = await readFile(second.path, 'utf8');
    expect(text).toContain('tmuxme bob');
    expect(text).not.toContain('tmuxme alice');
    second.finish(0);
  });
});

describe('what the next run says of the last one', () => {
  it('nothing when there was none, or when it ended before the host\'s eyes', async () => {
    expect(previousRunReport(env)).toBeUndefined();
    RunLog.open('tmuxme alice', env).finish(0);
    expect(previousRunReport(env)).toBeUndefined();
    RunLog.open('tmuxme alice', env).finish(1);
    expect(previousRunReport(env)).toBeUndefined();
  });

  it('nothing of a run still going (this one)', () => {
    RunLog.open('tmuxme alice', env);
    expect(previousRunReport(env)).toBeUndefined();
  });

  it('a run its terminal\'s closing ended: how it ended and what it said meanwhile, once', async () => {
    const log = RunLog.open('tmuxme alice', env);
    log.write('alice connected (may type) at 14:05');
    log.write('Ending the session: the terminal closed (SIGHUP)');
    log.write('Session over (the terminal closed (SIGHUP)).');
    log.write('problem: could not end the session: the server did not answer');
    log.finish(129);
    const report = previousRunReport(env)!;
    const lines = report.split('\n');
    expect(lines[0]).toMatch(/^Your last tmuxme run \(tmuxme alice, started \d\d:\d\d\) ended at \d\d:\d\d with status 129:$/);
    expect(lines.slice(1, -1)).toEqual([
      expect.stringMatching(/^ {2}\d\d:\d\d:\d\d Ending the session: the terminal closed \(SIGHUP\)$/),
      expect.stringMatching(/^ {2}\d\d:\d\d:\d\d Session over \(the terminal closed \(SIGHUP\)\)\.$/),
      expect.stringMatching(/^ {2}\d\d:\d\d:\d\d problem: could not end the session: the server did not answer$/),
    ]);
    expect(lines.at(-1)).toBe(`Its log: ${log.path}`);
    expect(report).not.toContain('alice connected');
    expect(previousRunReport(env)).toBeUndefined();
  });

  it('a run that was killed: it never finished, and the next host run cleans up', async () => {
    await logOfADeadRun(['14:05:01 Guests join with: ssh -p 20001 tmuxme@box']);
    expect(previousRunReport(env)).toBe([
      'Your last tmuxme run (tmuxme alice, started ' + new Date('2026-12-07T14:05:00.000Z').toTimeString().slice(0, 5)
        + ') stopped without finishing (it was killed, or its machine stopped): the next time you host, tmuxme cleans up what it left.',
      `Its log: ${runLogPath(env)}`,
    ].join('\n'));
    expect(previousRunReport(env)).toBeUndefined();
  });

  it('ignores a file that is not a run log', async () => {
    const path = runLogPath(env);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, 'something else\n');
    expect(previousRunReport(env)).toBeUndefined();
  });
});
