import type { NetworkNamespace } from '@tmuxme/testing';

/**
 * A terminal for a test to type into and read: a detached tmux session on a socket of its own,
 * inside a network namespace. What runs in it sees a real pty, as a person's shell would.
 */
export class Terminal {
  private constructor(private readonly ns: NetworkNamespace, readonly socket: string) {}

  /** Starts `command` (a shell command line) in a fresh 160x48 terminal with exactly `env`. */
  static async open(ns: NetworkNamespace, socket: string, command: string, env: Record<string, string>): Promise<Terminal> {
    const exports = Object.entries(env).map(([name, value]) => `${name}=${shellQuote(value)}`).join(' ');
    await ns.exec('env', ['-i', ...Object.entries(env).map(([n, v]) => `${n}=${v}`), 'tmux', '-S', socket, '-f', '/dev/null',
      'new-session', '-d', '-x', '160', '-y', '48', `env ${exports} ${command}; echo "[exited $?]"; sleep 600`]);
    return new Terminal(ns, socket);
  }

  async type(text: string, enter = true): Promise<void> {
    await this.tmux('send-keys', '-l', text);
    if (enter) await this.tmux('send-keys', 'Enter');
  }

  async keys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', ...keys);
  }

  /** The visible screen, plus what scrolled off. */
  async screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-200');
  }

  /** Resolves with the screen once `test` holds; fails with the screen as it was. */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (typeof test === 'function' ? test(screen) : test.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${String(test)}; it shows:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
  }

  private async tmux(...args: string[]): Promise<string> {
    return (await this.ns.exec('tmux', ['-S', this.socket, ...args])).stdout;
  }
}

export const shellQuote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
