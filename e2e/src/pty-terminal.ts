import { spawn, type IPty } from '@lydell/node-pty';
import { stripVTControlCharacters } from 'node:util';
import type { NetworkNamespace } from '@tmuxme/testing';

/** How the program in the terminal ended: its exit status, or the signal that ended it. */
export interface TerminalExit {
  exitCode: number;
  signal: number;
}

/**
 * A terminal window the test owns, with one program running in it inside a network namespace: the test
 * can read what it printed, signal it, and close the window itself (the program's pty hangs up, as when a
 * person closes a terminal or their SSH connection to the machine drops). `Terminal` is a tmux pane,
 * which a test cannot close under the program the same way, nor learn its exit status from once it has.
 */
export class PtyTerminal {
  private printed = '';
  private closed = false;
  readonly exited: Promise<TerminalExit>;

  private constructor(private readonly pty: IPty) {
    pty.onData((data) => { this.printed += data; });
    this.exited = new Promise((resolve) => pty.onExit(({ exitCode, signal }) => resolve({ exitCode, signal: signal ?? 0 })));
  }

  /** Runs `argv` in `ns`, in a fresh 160x48 terminal, with exactly `env`. */
  static open(ns: NetworkNamespace, argv: string[], env: Record<string, string>): PtyTerminal {
    // `ip netns exec` and `env` exec what they run: the program is the pty's own process, its session leader.
    const pty = spawn('ip', ['netns', 'exec', ns.name, 'env', '-i', ...Object.entries(env).map(([name, value]) => `${name}=${value}`), ...argv], {
      name: 'xterm-256color', cols: 160, rows: 48, env: {},
    });
    return new PtyTerminal(pty);
  }

  /** The program's process id. */
  get pid(): number {
    return this.pty.pid;
  }

  /** Everything printed so far, without the escape sequences. */
  text(): string {
    return stripVTControlCharacters(this.printed);
  }

  /** Resolves with the text once `pattern` shows in it; fails with the text as it was. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text())) {
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${String(pattern)}; it shows:\n${this.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.text();
  }

  type(keys: string): void {
    this.pty.write(keys);
  }

  signal(name: NodeJS.Signals): void {
    process.kill(this.pty.pid, name);
  }

  /** Closes the window: our side of the pty goes, and the kernel hangs up the program's. Once is enough. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // UnixTerminal's destroy() closes the pty's master; its typings leave it out.
    (this.pty as IPty & { destroy(): void }).destroy();
  }
}
