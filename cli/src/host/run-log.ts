import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isProcessAlive } from '../lib/file-lock.js';
import { clock } from './host-view.js';
import { endingPrefix } from './reporters.js';

type Env = Record<string, string | undefined>;

/** `$XDG_STATE_HOME/tmuxme/last-run.log`, or `~/.local/state/tmuxme/last-run.log` (the XDG default). */
export function runLogPath(env: Env = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'tmuxme', 'last-run.log');
}

const header = /^tmuxme run (\d+) started (\S+): (.*)$/;
const exitLine = /^(\d\d:\d\d:\d\d) exit (\d+)$/;
const reportedLine = 'reported';

/**
 * Every line of one host run, in a file that outlives its terminal: once the terminal is gone this is
 * where the run's last lines go, and the next run reads how it ended. Each host run replaces the last
 * one's file (0600 in a 0700 directory: it names the guests and the session). Written synchronously,
 * so that a line is on disk before whatever comes next, the process's exit included.
 */
export class RunLog {
  private constructor(private fd: number | undefined, readonly path: string, readonly failure?: string) {}

  /**
   * A fresh log for this run; `command` is how it was started, for the next run to name it. A log that cannot
   * be written (a read-only home, say) stops no session: its `failure` says why, and its lines go nowhere.
   */
  static open(command: string, env: Env = process.env): RunLog {
    const path = runLogPath(env);
    let fd: number;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // A new file renamed over the old one: never a moment with half of each, nor a file of someone else's opened.
      const fresh = `${path}.${process.pid}`;
      fd = openSync(fresh, 'wx', 0o600);
      renameSync(fresh, path);
    } catch (error) {
      return new RunLog(undefined, path, (error as Error).message);
    }
    const log = new RunLog(fd, path);
    log.append(`tmuxme run ${process.pid} started ${new Date().toISOString()}: ${command}`);
    return log;
  }

  /** One line, after the time of day. */
  readonly write = (line: string): void => this.append(`${new Date().toTimeString().slice(0, 8)} ${line}`);

  /** The last line: the status the run exits with. */
  finish(exitCode: number): void {
    this.write(`exit ${exitCode}`);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(text: string): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, `${text}\n`);
    } catch {
      // A full disk must not stop the session's undo: the log is the least of what the run does.
    }
  }
}

/** How the last host run ended, if the host may not have seen it: its terminal closed, it was stopped, or it never finished. */
export function previousRunReport(env: Env = process.env): string | undefined {
  const path = runLogPath(env);
  let lines: string[];
  try {
    lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return undefined;
  }
  const started = header.exec(lines[0] ?? '');
  if (!started || lines.includes(reportedLine)) return undefined;
  const [, pid, at, command] = started;
  const run = `Your last tmuxme run (${command}, started ${clock(Date.parse(at!))})`;
  const exit = exitLine.exec(lines.at(-1) ?? '');
  let report: string;
  if (!exit) {
    if (isProcessAlive(Number(pid))) return undefined;
    report = `${run} stopped without finishing (it was killed, or its machine stopped): the next time you host, tmuxme cleans up what it left.`;
  } else {
    const [, endedAt, code] = exit;
    // Below 128 the host was there to see the end; above, a signal or a lost terminal ended it.
    if (Number(code) < 128) return undefined;
    const ending = lines.map((line) => line.slice(9).startsWith(endingPrefix)).lastIndexOf(true);
    const said = (ending < 0 ? [] : lines.slice(ending, -1)).map((line) => `  ${line}`);
    report = [`${run} ended at ${endedAt!.slice(0, 5)} with status ${code}:`, ...said].join('\n');
  }
  markReported(path);
  return `${report}\nIts log: ${path}`;
}

/** Told once: the next run does not say it again. */
function markReported(path: string): void {
  try {
    appendFileSync(path, `${reportedLine}\n`);
  } catch {
    // Unwritable: the host hears it again, which is better than never.
  }
}
