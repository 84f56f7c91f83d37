import { spawn } from 'node:child_process';
import { openAccount } from '../lib/account.js';
import { tmuxEnvironment } from '../lib/tmux-session.js';
import type { Guest } from './host-events.js';
import { HostFlow } from './host-flow.js';
import { HostStore } from './host-store.js';
import { jsonReporter, lineReporter } from './reporters.js';

export type HostOutput = 'tui' | 'lines' | 'json';

export interface HostSessionOptions {
  guests: Guest[];
  output: HostOutput;
  /** Hand this terminal to tmux once guests can join. */
  attach: boolean;
  /** The seed's way (DESIGN section 6) instead of tmuxme serving the guests' SSH itself. */
  systemSshd: boolean;
  sshPort: number;
  /** The box binds the port to its loopback: guests reach it only through its SSH port, as invited jump users. */
  private: boolean;
  identity?: string;
  server?: string;
}

/** `tmuxme alice bob:ro`: sets the session up, lets the host pair, and undoes it all at the end. */
export async function hostSession(options: HostSessionOptions): Promise<number> {
  const { settings, api } = await openAccount({ server: options.server });
  if (!settings.apiToken) throw new Error('you are not signed in: run `tmuxme login` (or `tmuxme signup`) first');
  const store = new HostStore();
  if (options.output !== 'tui') {
    const write = (line: string) => void process.stdout.write(`${line}\n`);
    store.subscribe(options.output === 'json' ? jsonReporter(write) : lineReporter(write));
  }
  const notice = (message: string) => store.dispatch({ type: 'notice', message });
  store.dispatch(options.systemSshd
    ? { type: 'mode', mode: 'system-sshd', reason: '--system-sshd: guests reach this machine\'s sshd as the local user tmuxme' }
    : { type: 'mode', mode: 'embedded', reason: 'no root or sshd needed: serving SSH from tmuxme itself (--system-sshd for this machine\'s sshd)' });
  // Each mode loads only its own backend (the seed's needs no ssh2 and no pty), while the steps that need none run.
  const backend = options.systemSshd
    ? import('./seed-backend.js').then(({ createSeedBackend }) => createSeedBackend({ sshPort: options.sshPort, identity: options.identity }))
    : import('./embedded-backend.js').then(({ createEmbeddedBackend }) => createEmbeddedBackend({ identity: options.identity, notice }));
  // The flow reports a backend that failed to load as its first step's failure; this only keeps Node from calling it unhandled.
  backend.catch(() => {});
  const flow = new HostFlow({ api, backend, guests: options.guests, private: options.private, emit: store.dispatch });
  const attach = async () => attachTmux((await backend).attachCommand());
  const stop = (signal: string) => void flow.end(signal === 'SIGINT' ? 'you pressed Ctrl-C' : `received ${signal}`);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  signals.forEach((signal) => process.on(signal, stop));
  try {
    if (options.output === 'tui') {
      // Ink and React load only for the screen (--no-tui and --json never load them), and while the set-up
      // runs: the screen opens on the steps as far as they got.
      const failed = flow.start().then(() => false, () => true);
      const { runHostTui } = await import('../ui/run-host-tui.js');
      return await runHostTui({ store, flow, failed, attach });
    }
    await flow.start();
    if (options.attach && process.stdin.isTTY) {
      await attach();
      if (!(await (await backend).tmuxRunning())) await flow.end('the tmux session ended');
      else process.stdout.write('Detached: the session goes on. Ctrl-C ends it.\n');
    }
    await flow.over;
    return 0;
  } catch {
    // The flow reported the failure as a failed step and undid its work.
    await flow.over;
    return 1;
  } finally {
    signals.forEach((signal) => process.off(signal, stop));
  }
}

/** Hands this terminal to tmux until the host detaches or the session ends. */
export function attachTmux(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: tmuxEnvironment() });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}
