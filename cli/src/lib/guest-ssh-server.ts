import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2, { type AuthContext, type Connection, type Server } from 'ssh2';
import { GuestKeyring, type InvitedGuest, type UnusableKey } from './guest-ssh-auth.js';
import { serveGuestSession, type ConnectionRefusal, type GuestTerminal, type Refusal, type RequestRefusal } from './guest-ssh-session.js';

export type { InvitedGuest, UnusableKey } from './guest-ssh-auth.js';
export type { ConnectionRefusal, Refusal, RequestRefusal } from './guest-ssh-session.js';

/** A guest who logged in with one of their keys. */
export interface GuestConnection {
  id: string;
  username: string;
  readOnly: boolean;
  since: Date;
  /** The SSH username they typed: anything, since their key is what identifies them. */
  sshUser: string;
  /** Their tmux clients' pids (what `tmux list-clients` shows as client_pid). */
  tmuxClientPids: number[];
}

export type GuestSshEvent =
  | { type: 'connected'; connection: GuestConnection }
  | { type: 'left'; connection: GuestConnection }
  /** A connection turned away (not logged in, too many, the session over) or dropped (a flood). */
  | { type: 'refused'; refusal: ConnectionRefusal; detail: string; connectionId?: string; username?: string }
  /** One request a logged-in guest made was rejected; their connection goes on. */
  | { type: 'request-refused'; refusal: RequestRefusal; detail: string; connectionId: string; username: string };

export interface GuestSshLimits {
  /** Session channels open at once on one connection. */
  maxSessions: number;
  /** Channel opens, channel requests and global requests on one connection, before it is dropped. */
  maxRequests: number;
  maxAuthAttempts: number;
  authTimeoutMs: number;
  /** Connections at once, logged in or not. */
  maxConnections: number;
}

export interface GuestSshServerOptions {
  /** The host key's private key, as OpenSSH writes it. */
  hostKey: string;
  guests: readonly InvitedGuest[];
  tmuxPath: string;
  socket: string;
  onEvent?: (event: GuestSshEvent) => void;
  limits?: Partial<GuestSshLimits>;
}

const defaultLimits: GuestSshLimits = { maxSessions: 2, maxRequests: 64, maxAuthAttempts: 10, authTimeoutMs: 30_000, maxConnections: 32 };
// After close(), how long a guest's side gets to take our disconnect before its stream is cut.
const closeGraceMs = 2_000;

interface LiveConnection {
  id: string;
  client: Connection;
  guest?: InvitedGuest;
  sshUser?: string;
  since?: Date;
  requests: number;
  authAttempts: number;
  sessions: number;
  /** What an unsuccessful login tried, for the one line that reports it. */
  tried: Set<string>;
  refused: Set<Refusal>;
  terminals: Set<GuestTerminal>;
}

/**
 * AES-GCM only, which Node's OpenSSL does in one native call per packet. OpenSSH clients prefer
 * chacha20-poly1305, which ssh2 without its optional compiled addon (never built: the CLI installs with
 * no install scripts) runs through a WebAssembly Poly1305, costing every keystroke more CPU and a longer
 * tail; they fall back to AES-CTR before GCM, so CTR is not offered either. Every OpenSSH since 6.2 has GCM.
 */
const guestCiphers = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'] as const;

/**
 * The guests' SSH server, inside tmuxme (issue 8): it never listens. Each
 * stream handed to serve() (a connection the tunnel forwarded) gets the SSH
 * protocol from ssh2's Server. Only the invited guests' keys log in, and a
 * guest gets exactly one thing: a pty running their tmux client.
 */
export class GuestSshServer {
  private readonly ssh: Server;
  private readonly keyring: GuestKeyring;
  private readonly limits: GuestSshLimits;
  private readonly streams = new Set<Duplex>();
  private readonly live = new Map<string, LiveConnection>();
  private readonly terminals = new Set<GuestTerminal>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: GuestSshServerOptions) {
    this.keyring = new GuestKeyring(options.guests);
    this.limits = { ...defaultLimits, ...options.limits };
    this.ssh = new ssh2.Server({
      hostKeys: [options.hostKey], ident: 'tmuxme', keepaliveInterval: 15_000, keepaliveCountMax: 3, algorithms: { cipher: [...guestCiphers] },
    }, (client) => this.onConnection(client));
  }

  /** Invited keys nobody can log in with here (e.g. security keys, which ssh2 cannot verify). */
  get unusableKeys(): readonly UnusableKey[] {
    return this.keyring.unusable;
  }

  /** Runs SSH over one incoming stream; after close(), or beyond the connection cap, the stream is destroyed at once. */
  serve(stream: Duplex): void {
    stream.on('error', () => {});
    if (this.closed || this.streams.size >= this.limits.maxConnections) {
      stream.destroy();
      if (this.closed) this.emit({ type: 'refused', refusal: 'server-closed', detail: 'a connection after the session ended' });
      else this.emit({ type: 'refused', refusal: 'too-many-connections', detail: `more than ${this.limits.maxConnections} connections at once` });
      return;
    }
    this.streams.add(stream);
    stream.once('close', () => this.streams.delete(stream));
    // ssh2 reads and writes the stream as it would a socket; any duplex does.
    this.ssh.injectSocket(stream as Socket);
  }

  connections(): GuestConnection[] {
    return [...this.live.values()].flatMap((state) => this.describe(state) ?? []);
  }

  /** Ends one guest's connection (their tmux clients go with it); false if there is no such connection. */
  disconnect(id: string): boolean {
    const state = this.live.get(id);
    state?.client.end();
    return state !== undefined;
  }

  /** Stops accepting, ends every connection, and waits until their streams and tmux clients are gone. */
  async close(): Promise<void> {
    this.closed = true;
    for (const state of this.live.values()) state.client.end();
    for (const terminal of this.terminals) terminal.kill();
    const streams = [...this.streams];
    const cut = setTimeout(() => streams.forEach((stream) => stream.destroy()), closeGraceMs);
    await Promise.all([
      ...streams.map((stream) => new Promise((resolve) => {
        if (stream.destroyed) resolve(undefined);
        else stream.once('close', resolve).end();
      })),
      ...[...this.terminals].map((terminal) => terminal.exited),
    ]);
    clearTimeout(cut);
  }

  private onConnection(client: Connection): void {
    const state: LiveConnection = {
      id: String(this.nextId++), client, requests: 0, authAttempts: 0, sessions: 0, tried: new Set(), refused: new Set(), terminals: new Set(),
    };
    this.live.set(state.id, state);
    if (this.closed) client.end();
    const authTimer = setTimeout(() => {
      state.tried.add(`no login within ${this.limits.authTimeoutMs / 1000} s`);
      client.end();
    }, this.limits.authTimeoutMs);

    client.on('authentication', (ctx) => this.authenticate(state, ctx));
    client.on('ready', () => {
      clearTimeout(authTimer);
      state.since = new Date();
      this.emit({ type: 'connected', connection: this.describe(state)! });
    });
    client.on('session', (accept, reject) => {
      if (!this.allow(state)) return;
      if (state.sessions >= this.limits.maxSessions) {
        this.refuseRequest(state, 'too-many-sessions', `more than ${this.limits.maxSessions} sessions on one connection`);
        return reject();
      }
      const session = accept();
      state.sessions += 1;
      session.once('close', () => { state.sessions -= 1; });
      serveGuestSession(session, {
        guest: state.guest!, tmuxPath: this.options.tmuxPath, socket: this.options.socket,
        allow: () => this.allow(state),
        refuse: (refusal, detail) => this.refuseRequest(state, refusal, detail),
        attached: (terminal) => this.track(state, terminal),
      });
    });
    client.on('tcpip', (_accept, reject, info) => {
      if (this.allow(state)) this.refuseRequest(state, 'port-forwarding', `a local forward (-L) to ${info.destIP}:${info.destPort}`);
      reject();
    });
    client.on('openssh.streamlocal', (_accept, reject) => {
      if (this.allow(state)) this.refuseRequest(state, 'port-forwarding', 'a forward to a Unix socket');
      reject();
    });
    client.on('request', (_accept, reject, name) => {
      if (this.allow(state)) this.refuseRequest(state, 'port-forwarding', `a remote forward (-R, ${name})`);
      reject?.();
    });
    // A reset or a protocol error: 'close' follows, and cleans up.
    client.on('error', () => {});
    client.on('close', () => {
      clearTimeout(authTimer);
      this.live.delete(state.id);
      for (const terminal of state.terminals) terminal.kill();
      const connection = this.describe(state);
      if (connection) this.emit({ type: 'left', connection });
      else if (state.tried.size > 0) this.refuse(state, 'authentication', `not logged in: ${[...state.tried].join(', ')}`);
    });
  }

  private authenticate(state: LiveConnection, ctx: AuthContext): void {
    if (++state.authAttempts > this.limits.maxAuthAttempts) {
      state.tried.add(`more than ${this.limits.maxAuthAttempts} attempts`);
      state.client.end();
      return;
    }
    // OpenSSH's first request is always 'none', to learn which methods there are: only publickey.
    if (ctx.method !== 'publickey') {
      if (ctx.method !== 'none') state.tried.add(ctx.method);
      return ctx.reject(['publickey']);
    }
    const check = this.keyring.check(ctx);
    switch (check.outcome) {
      case 'acceptable':
        return ctx.accept();
      case 'verified':
        state.guest = check.guest;
        state.sshUser = ctx.username;
        return ctx.accept();
      case 'unknown-key':
        state.tried.add('a key that is not invited');
        return ctx.reject(['publickey']);
      case 'bad-signature':
        state.tried.add(`${check.guest.username}'s key with a bad signature`);
        return ctx.reject(['publickey']);
    }
  }

  /** Counts a request; past the cap the connection is dropped (and the request goes unanswered). */
  private allow(state: LiveConnection): boolean {
    if (++state.requests <= this.limits.maxRequests) return true;
    this.refuse(state, 'request-flood', `more than ${this.limits.maxRequests} requests on one connection`);
    state.client.end();
    return false;
  }

  private refuse(state: LiveConnection, refusal: ConnectionRefusal, detail: string): void {
    if (state.refused.has(refusal)) return;
    state.refused.add(refusal);
    this.emit({ type: 'refused', refusal, detail, connectionId: state.id, username: state.guest?.username });
  }

  /** Only a logged-in guest gets as far as making requests. */
  private refuseRequest(state: LiveConnection, refusal: RequestRefusal, detail: string): void {
    if (state.refused.has(refusal) || !state.guest) return;
    state.refused.add(refusal);
    this.emit({ type: 'request-refused', refusal, detail, connectionId: state.id, username: state.guest.username });
  }

  private track(state: LiveConnection, terminal: GuestTerminal): void {
    state.terminals.add(terminal);
    this.terminals.add(terminal);
    void terminal.exited.then(() => {
      state.terminals.delete(terminal);
      this.terminals.delete(terminal);
    });
  }

  private describe(state: LiveConnection): GuestConnection | undefined {
    const { guest, since, sshUser } = state;
    if (!guest || !since) return undefined;
    return {
      id: state.id, username: guest.username, readOnly: guest.access === 'ro', since, sshUser: sshUser ?? '',
      tmuxClientPids: [...state.terminals].map((terminal) => terminal.pid),
    };
  }

  private emit(event: GuestSshEvent): void {
    this.options.onEvent?.(event);
  }
}
