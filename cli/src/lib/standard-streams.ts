import { closeSync, fstatSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';

/** The terminal or the reader of our output went away: why, and the exit status that says so. */
export interface OutputLoss {
  reason: string;
  /** 128 + the signal a shell would have seen: SIGHUP for a terminal, SIGPIPE for a pipe. */
  exitCode: number;
}

const terminalClosed: OutputLoss = { reason: 'the terminal closed', exitCode: 129 };
const readerGone: OutputLoss = { reason: 'the program reading its output went away', exitCode: 141 };

// EIO: the terminal's window closed, or the SSH connection to this machine dropped. EPIPE: the reader of a pipe exited.
const losses: Record<string, OutputLoss> = { EIO: terminalClosed, ENXIO: terminalClosed, EPIPE: readerGone, ECONNRESET: readerGone };

let lost: OutputLoss | undefined;
const listeners = new Set<(loss: OutputLoss) => void>();

/**
 * Node raises a failed write to stdout or stderr (and a failed read of stdin) as an 'error' event, which,
 * with nobody listening, kills the process wherever it is: half-way through undoing a session, say. Heard
 * here, a terminal or pipe that is gone is told once to whoever asked (`onOutputLost`), and every later
 * write to it goes nowhere. Any other error is thrown as before.
 */
export function guardStandardStreams(streams: NodeJS.EventEmitter[] = [process.stdin, process.stdout, process.stderr]): void {
  process.once('exit', letGoOfHungUpTerminal);
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      const loss = losses[error.code ?? ''];
      if (!loss) throw error;
      if (lost) return;
      lost = loss;
      for (const listener of listeners) listener(loss);
    });
  }
}

/** Calls `listener` once the terminal or pipe is gone (at once if it is already); returns how to stop listening. */
export function onOutputLost(listener: (loss: OutputLoss) => void): () => void {
  if (lost) {
    const known = lost;
    queueMicrotask(() => listener(known));
    return () => {};
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Node 20 puts back the terminal settings it started with as it exits, and aborts (SIGABRT, status 134) when
 * the terminal has hung up (nodejs/node#51519, mended in later Node versions). It leaves alone a descriptor
 * that was opened anew since, so each standard descriptor that is still a terminal's device but no longer
 * answers as a terminal is pointed at /dev/null first: the exit status stays the one the run chose.
 */
function letGoOfHungUpTerminal(): void {
  for (const fd of [0, 1, 2]) {
    try {
      if (!fstatSync(fd).isCharacterDevice() || isatty(fd)) continue;
      closeSync(fd);
      // The lowest free descriptor: the one just closed, unless another thread took it in between.
      const reopened = openSync('/dev/null', fd === 0 ? 'r' : 'w');
      if (reopened !== fd) closeSync(reopened);
    } catch {
      // Closed already: nothing for Node to put back.
    }
  }
}
