import { spawn } from 'node:child_process';
import { openAccount } from '../lib/account.js';
import { onOutputLost } from '../lib/standard-streams.js';
import { tmuxEnvironment } from '../lib/tmux-session.js';
import type { Guest } from './host-events.js';
import { HostFlow } from './host-flow.js';
import { HostStore } from './host-store.js';
import { jsonReporter, lineReporter } from './reporters.js';
import { RunLog } from './run-log.js';

export type HostOutput = 'tui' | 'lines' | 'json';

export interface HostSessionOptions {
  guests: Guest[];
  output: HostOutput;
  /** Hand this terminal to tmux once guests can join. */
  attach: boolean;
  /** The seed's way (docs/architecture.md §6) instead of tmuxme serving the guests' SSH itself. */
  systemSshd: boolean;
  sshPort: number;
  /** The box binds the port to its loopback: guests reach it only through its SSH port, as invited jump users. */
  private: boolean;
  identity?: string;
  server?: string;
  /** `--keep-tmux`: the tmux session outlives the pairing. */
  keepTmux: boolean;
  /** The command line that started this run, for the run log. */
  invocation: string;
}

/** Something outside the flow ended the session (a signal, the terminal going away): why, and the status the run exits with. */
interface Ending {
  reason: string;
  exitCode: number;
  /** The terminal is gone: a tmux client attached to it would never hear of it. */
  hungUp?: boolean;
}

// 128 + the signal's number, as a shell reports a process the signal ended; Ctrl-C is how a host ends a session.
const signalEndings: Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', Ending> = {
  SIGINT: { reason: 'you pressed Ctrl-C', exitCode: 0 },
  SIGTERM: { reason: 'tmuxme was told to stop (SIGTERM)', exitCode: 143 },
  SIGHUP: { reason: 'the terminal closed (SIGHUP)', exitCode: 129, hungUp: true },
};

/**
 * `tmuxme alice bob:ro`: sets the session up, lets the host pair, and undoes it all at the end, whatever
 * ends it: the host, tmux, the server, a signal, or the terminal going away. Resolves with the exit status:
 * 0 when the session ended, 1 when it could not be set up, 128 + a signal when one (or a lost terminal) ended it.
 */
export async function hostSession(options: HostSessionOptions): Promise<number> {
  const { settings, api } = await openAccount({ server: options.server });
  if (!settings.apiToken) throw new Error('you are not signed in: run `tmuxme login` (or `tmuxme signup`) first');
  const store = new HostStore();
  // Every line also goes to the run log: once the terminal is gone, it is the only place they still reach.
  const log = RunLog.open(options.invocation);
  store.subscribe(lineReporter(log.write));
  const writeLine = (line: string) => void process.stdout.write(`${line}\n`);
  if (options.output !== 'tui') store.subscribe(options.output === 'json' ? jsonReporter(writeLine) : lineReporter(writeLine));
  const notice = (message: string, { quiet = false } = {}) => store.dispatch({ type: 'notice', message, ...(quiet ? { quiet } : {}) });
  if (log.failure) notice(`This run keeps no log (${log.failure}).`);
  store.dispatch(options.systemSshd
    ? { type: 'mode', mode: 'system-sshd', reason: '--system-sshd: guests reach this machine\'s sshd as the local user tmuxme' }
    : { type: 'mode', mode: 'embedded', reason: 'no root or sshd needed: serving SSH from tmuxme itself (--system-sshd for this machine\'s sshd)' });
  // Each mode loads only its own backend (the seed's needs no ssh2 and no pty), while the steps that need none run.
  const backend = options.systemSshd
    ? import('./seed-backend.js').then(({ createSeedBackend }) => createSeedBackend({ sshPort: options.sshPort, identity: options.identity }))
    : import('./embedded-backend.js').then(({ createEmbeddedBackend }) => createEmbeddedBackend({ identity: options.identity, notice }));
  // The flow reports a backend that failed to load as its first step's failure; this only keeps Node from calling it unhandled.
  backend.catch(() => {});
  const flow = new HostFlow({ api, backend, guests: options.guests, private: options.private, keepTmux: options.keepTmux, emit: store.dispatch });
  const outside = endFromOutside(flow, store);
  const attach = async () => attachTmux((await backend).attachCommand(), outside.hungUp);
  let failed = false;
  try {
    if (options.output === 'tui') {
      // Ink and React load only for the screen (--no-tui and --json never load them), and while the set-up
      // runs: the screen opens on the steps as far as they got.
      const started = flow.start().then(() => true, () => false);
      const { runHostTui } = await import('../ui/run-host-tui.js');
      await runHostTui({ store, flow, attach });
      failed = !(await started);
    } else {
      await flow.start();
      if (options.attach && process.stdin.isTTY) {
        await attach();
        if (store.get().phase === 'ready') {
          if (!(await (await backend).tmuxRunning())) await flow.end('the tmux session ended');
          else writeLine('Detached: the session goes on. Ctrl-C ends it.');
        } else if (options.output === 'lines') {
          await flow.over;
          // It ended while the host was in tmux, which --keep-tmux kept: what was said meanwhile went with tmux's screen.
          const { endReason = '', problems, keptTmux } = store.get();
          if (keptTmux) lineReporter(writeLine)({ type: 'ended', reason: endReason, problems, keptTmux });
        }
      }
      await flow.over;
    }
  } catch {
    // The flow reported the failure as a failed step and undid its work.
    await flow.over;
    failed = true;
  } finally {
    outside.stop();
  }
  const exitCode = outside.first()?.exitCode ?? (failed ? 1 : 0);
  log.finish(exitCode);
  return exitCode;
}

/**
 * Ends the session when something outside it does: Ctrl-C, SIGTERM, SIGHUP, or a terminal that is gone.
 * `first` is what ended it, if one of these did; `hungUp` fires once the terminal is gone.
 */
function endFromOutside(flow: HostFlow, store: HostStore) {
  const hungUp = new AbortController();
  let first: Ending | undefined;
  const endFor = (ending: Ending) => {
    // The first reason is the one: a terminal that closes while the session ends does not change why it ended.
    if (['setting-up', 'ready'].includes(store.get().phase)) first = ending;
    if (ending.hungUp) hungUp.abort();
    void flow.end(ending.reason);
  };
  const onSignal = (signal: keyof typeof signalEndings) => endFor(signalEndings[signal]);
  const signals = Object.keys(signalEndings) as (keyof typeof signalEndings)[];
  signals.forEach((signal) => process.on(signal, onSignal));
  const stopWatchingOutput = onOutputLost((loss) => endFor({ ...loss, hungUp: true }));
  return {
    hungUp: hungUp.signal,
    first: () => first,
    stop() {
      signals.forEach((signal) => process.off(signal, onSignal));
      stopWatchingOutput();
    },
  };
}

/**
 * Hands this terminal to tmux until the host detaches or the session ends, or `hungUp` says the terminal
 * is gone. The kernel tells only us, the terminal's session leader, of a hang-up, and tmux's server goes on
 * reading a dead terminal, so without it a client kept by --keep-tmux would be waited for for ever.
 */
export function attachTmux(argv: string[], hungUp?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: tmuxEnvironment(), signal: hungUp, killSignal: 'SIGHUP' });
    // Aborting also raises an AbortError here; 'exit' follows it.
    child.once('error', (error) => { if (error.name !== 'AbortError') reject(error); });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}
