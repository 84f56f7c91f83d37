import { spawn, type IPty } from '@lydell/node-pty';
import type { PseudoTtyInfo, ServerChannel, Session, WindowChangeInfo } from 'ssh2';
import { greeting } from './guest-command.js';
import type { InvitedGuest } from './guest-ssh-auth.js';

/** A request a logged-in guest made and did not get: the request is rejected, their connection goes on. */
export type RequestRefusal =
  | 'no-pty' | 'exec' | 'subsystem' | 'x11-forwarding' | 'agent-forwarding' | 'port-forwarding' | 'env' | 'too-many-sessions';

/** A connection turned away or dropped: a login that failed, too many at once, a flood, or the session over. */
export type ConnectionRefusal = 'authentication' | 'request-flood' | 'too-many-connections' | 'server-closed';

/** What a guest asked for and did not get. Each kind is reported once per connection. */
export type Refusal = RequestRefusal | ConnectionRefusal;

/** A guest's tmux client, running in a pty of ours. */
export interface GuestTerminal {
  pid: number;
  /** Settles once the tmux client has exited and the guest's channel is closed. */
  exited: Promise<void>;
  kill(): void;
}

export interface GuestSessionContext {
  guest: InvitedGuest;
  tmuxPath: string;
  socket: string;
  /** Counts one request against the connection's cap; false once the connection is being dropped for flooding. */
  allow(): boolean;
  refuse(refusal: RequestRefusal, detail: string): void;
  attached(terminal: GuestTerminal): void;
}

interface TerminalSize {
  cols: number;
  rows: number;
}

const maxDimension = 1000;
// What a terminfo name looks like; anything else would be handed to tmux as the guest's TERM.
const termPattern = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const defaultTerm = 'xterm-256color';
// The rest of the host's environment (API tokens, agent sockets) has no business in a process that serves a guest.
const passedEnvironment = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL'];
// The host's locale, for a guest who sends none of their own.
const hostLocale = ['LANG', 'LC_ALL', 'LC_CTYPE'];
/**
 * The guest's locale, as Debian's sshd takes it (`AcceptEnv LANG LC_*`) and OpenSSH clients on Debian and macOS
 * send it (`SendEnv LANG LC_*`). Their tmux client reads LC_ALL, else LC_CTYPE, else LANG to decide whether the
 * guest's terminal takes UTF-8 (tmux draws `_` for every non-ASCII character to a client that does not): that is
 * the guest's terminal's business, not the host's.
 */
const localeName = /^(LANG|LC_[A-Z0-9_]{1,32})$/;
// The ones that decide the client's character set: a guest who sends one of them replaces all of the host's.
const charsetNames = new Set(hostLocale);
/**
 * Printable ASCII, at most 64 bytes: locale names (`de_DE.UTF-8`, `sr_RS@latin`) are ASCII, and so is what
 * terminals put in LC_* (iTerm2's LC_TERMINAL=iTerm2). Allowing UTF-8 would buy nothing a locale uses and let in
 * bidirectional and invisible characters; no control characters, so no newlines nor escapes reach an environment.
 */
const localeValue = /^[\x20-\x7e]{0,64}$/;

/**
 * One session channel of an authenticated guest: a pty request, then a shell,
 * which is their tmux client (`attach-session -r` for a read-only guest).
 * Everything else a session can ask for is refused.
 */
export function serveGuestSession(session: Session, context: GuestSessionContext): void {
  let size: TerminalSize | undefined;
  let term = defaultTerm;
  const locale = new Map<string, string>();
  let terminal: IPty | undefined;

  session.on('pty', (accept, reject, info: PseudoTtyInfo) => {
    if (!context.allow()) return;
    const requested = validSize(info);
    if (terminal || !requested) return reject?.();
    size = requested;
    if (termPattern.test(info.term)) term = info.term;
    accept?.();
  });
  session.on('env', (accept, reject, { key, val }) => {
    if (!context.allow()) return;
    if (key === 'TERM' && termPattern.test(val) && !terminal) {
      term = val;
      return accept?.();
    }
    if (localeName.test(key) && localeValue.test(val) && !terminal) {
      locale.set(key, val);
      return accept?.();
    }
    // Reported quietly (once per connection): OpenSSH clients send variables by default, and their guest is still let in.
    context.refuse('env', envRefusal(key, val, terminal !== undefined));
    reject?.();
  });
  // Not counted against the cap: dragging a window sends many, and each resizes only this guest's pty.
  session.on('window-change', (accept, reject, info: WindowChangeInfo) => {
    const requested = validSize(info);
    if (!requested) return reject?.();
    size = requested;
    terminal?.resize(requested.cols, requested.rows);
    accept?.();
  });
  session.on('shell', (accept, reject) => {
    if (!context.allow()) return;
    if (terminal) return reject?.();
    if (!size) {
      const channel = accept();
      channel.stderr.write('tmux.me: this session needs a terminal; join with `ssh -t` (or without -T)\r\n');
      channel.exit(1);
      channel.end();
      context.refuse('no-pty', 'a shell without a pty');
      return;
    }
    terminal = attachTmux(accept(), context, size, term, locale);
  });
  session.on('exec', (_accept, reject, { command }) => refuse('exec', `running ${JSON.stringify(command.slice(0, 60))}`, reject));
  session.on('subsystem', (_accept, reject, { name }) => refuse('subsystem', `the ${JSON.stringify(name.slice(0, 40))} subsystem`, reject));
  session.on('x11', (_accept, reject) => refuse('x11-forwarding', 'X11 forwarding', reject));
  session.on('auth-agent', (_accept, reject) => refuse('agent-forwarding', 'agent forwarding', reject));
  session.on('signal', (_accept, reject) => {
    if (context.allow()) reject?.();
  });

  function refuse(refusal: RequestRefusal, detail: string, reject: (() => void) | undefined): void {
    if (!context.allow()) return;
    context.refuse(refusal, detail);
    reject?.();
  }
}

/** With `encoding: null` the pty reads and writes Buffers, which its typings (strings only) do not say. */
interface RawPty {
  onData(listener: (data: Buffer) => void): void;
  write(data: Buffer): void;
}

function attachTmux(channel: ServerChannel, context: GuestSessionContext, size: TerminalSize, term: string, locale: Map<string, string>): IPty {
  const readOnly = context.guest.access === 'ro';
  const environment: Record<string, string> = { TERM: term };
  // The host's LC_ALL would override a guest's LANG: a guest who sent any of the three gets none of the host's.
  const guestCharset = [...locale.keys()].some((name) => charsetNames.has(name));
  for (const name of [...passedEnvironment, ...(guestCharset ? [] : hostLocale)]) {
    const value = process.env[name];
    if (value !== undefined) environment[name] = value;
  }
  for (const [name, value] of locale) environment[name] = value;
  const attach = ['-S', context.socket, 'attach-session', ...(readOnly ? ['-r'] : []), ';', 'display-message', greeting(context.guest.username, readOnly)];
  const pty = spawn(context.tmuxPath, attach, {
    name: term, cols: size.cols, rows: size.rows, env: environment,
    // Raw bytes both ways: decoding here could split a character that arrives in two reads.
    encoding: null,
  });
  channel.on('error', () => {});
  const raw = pty as unknown as RawPty;
  raw.onData((data) => {
    if (!channel.write(data)) {
      pty.pause();
      channel.once('drain', () => pty.resume());
    }
  });
  channel.on('data', (data: Buffer) => raw.write(data));
  let running = true;
  // Once it has exited its pid may be someone else's: no signal after that.
  const hangUp = () => { if (running) pty.kill(); };
  const exited = new Promise<void>((resolve) => {
    pty.onExit(({ exitCode }) => {
      running = false;
      if (channel.writable) {
        channel.exit(exitCode);
        channel.end();
      }
      resolve();
    });
  });
  // SIGHUP, as a terminal hanging up: the tmux client detaches and exits.
  channel.once('close', hangUp);
  context.attached({ pid: pty.pid, exited, kill: hangUp });
  return pty;
}

/** Why an env request was refused. The value is never quoted: it goes to the host's screen, and may be any bytes. */
function envRefusal(key: string, val: string, started: boolean): string {
  if (!(key === 'TERM' || localeName.test(key))) return `setting ${JSON.stringify(key.slice(0, 40))} (only TERM, LANG and LC_* are accepted)`;
  if (started) return `setting ${key} once the terminal had started`;
  if (key === 'TERM') return 'setting TERM to something that is not a terminfo name';
  return `setting ${key} to ${Buffer.byteLength(val)} bytes that are not a locale's (printable ASCII, at most 64 bytes)`;
}

/**
 * A size from a pty or window-change request. Zero means "unknown" (RFC 4254 6.2: it must be ignored),
 * as `ssh -tt` sends when its own input is no terminal: such a guest gets 80x24.
 */
function validSize({ cols, rows }: { cols: number; rows: number }): TerminalSize | undefined {
  if (cols === 0 && rows === 0) return { cols: 80, rows: 24 };
  const fits = (value: number) => Number.isInteger(value) && value > 0 && value <= maxDimension;
  return fits(cols) && fits(rows) ? { cols, rows } : undefined;
}
