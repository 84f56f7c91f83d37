import { ApiError, type PairingSession, type PortLease, type TmuxmeApi } from '../lib/api-client.js';
import { shellQuote } from '../lib/join-ssh.js';
import { TunnelAuthRefused, TunnelPortRefused } from '../lib/reverse-tunnel.js';
import type { GuestKeys, HostBackend, OpenTunnel } from './host-backend.js';
import { connectionKey, type ConnectedGuest, type Guest, type HostEvent, type ReadySession, type StepId } from './host-events.js';
import { SessionRequests } from './session-requests.js';
import { recoverTunnel, type TunnelRecoveryOptions } from './tunnel-recovery.js';

export type HostApi = Pick<TmuxmeApi,
  'publicKeys' | 'leasePort' | 'giveBackLease' | 'declareSession' | 'heartbeat' | 'endSession' | 'moveSession' | 'getSession'>;

export interface HostFlowOptions {
  api: HostApi;
  /** A promise while its modules still load: the steps that need no backend start without it. */
  backend: HostBackend | Promise<HostBackend>;
  guests: Guest[];
  /** `--private`: the box binds the port to its loopback, so only invited guests reach it, through the jump user. */
  private?: boolean;
  /** `--keep-tmux`: at the end, tmux is left running for the host alone instead of stopped. */
  keepTmux?: boolean;
  emit: (event: HostEvent) => void;
  /** How long an authentication refusal right after leasing is retried: the box catches up with the lease. */
  tunnelAuthRetryMs?: number;
  /** Leases tried when the box refuses the port (taken, or not ours after all). */
  portAttempts?: number;
  /** Default: a third of the time the server gives a session to live, so two beats may fail before it expires. */
  heartbeatMs?: number;
  pollGuestsMs?: number;
  /** How long a box gets to set up the forward once the tunnel dropped: one that has gone quiet must not use up the time to move. */
  reopenWithinMs?: number;
  /** The pace of bringing a dropped tunnel back (tests make it quick). */
  recovery?: Pick<TunnelRecoveryOptions, 'sameBoxDelaysMs' | 'backOffMs' | 'giveUpAfterMs'>;
}

/** A leased port and the undo entry that gives it back. */
interface HeldLease {
  lease: PortLease;
  giveBack: { label: string; run: () => Promise<unknown> };
}

/** Stops the flow at the next step: the host pressed Ctrl-C or asked to end. */
export class HostAborted extends Error {
  override name = 'HostAborted';
}

/**
 * Hosts one pairing session: the set-up's steps (at once where they can be), then heartbeats and the guest list
 * while it lasts, and at the end (or at any failure) exactly what was done undone, newest first.
 */
export class HostFlow {
  private readonly undo: { label: string; run: () => Promise<unknown> }[] = [];
  private readonly stopped = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private starting: Promise<void> | undefined;
  private ending: Promise<void> | undefined;
  private session: PairingSession | undefined;
  private tunnel: OpenTunnel | undefined;
  private lease: PortLease | undefined;
  private readonly requests = new SessionRequests();
  private connected: ConnectedGuest[] = [];
  private backend: HostBackend | undefined;
  private polling = false;
  private pollAgain = false;
  /** The first failure of a set-up step, which stops the steps running beside it. */
  private failure: unknown;
  /** With keepTmux, the command that attaches to the tmux left running. */
  private keptTmux: string | undefined;

  constructor(private readonly options: HostFlowOptions) {}

  /** Runs the steps; resolves once guests can join. On failure everything done so far is undone first. */
  async start(): Promise<void> {
    this.starting = this.runSteps();
    try {
      await this.starting;
    } catch (error) {
      // Stopped by end(): it undoes once the step in flight has settled. Failed by itself: undo now.
      await (this.stopped.signal.aborted ? this.ending : this.end('set-up failed'));
      throw error;
    }
  }

  /**
   * The steps that do not need each other run at once: the guests' keys, the lease and the local set-up
   * (host key, tmux) start together; the guests are let in once their keys are here, the tunnel opens once
   * they are in and the port is leased, and the session is declared once everything is up.
   */
  private async runSteps(): Promise<void> {
    const { api, guests, emit } = this.options;
    // The backend's modules may still be loading: the local steps wait for them, the server's do not.
    const localUser = this.branch(this.step('local-user', async () => {
      const backend = await this.options.backend;
      this.backend = backend;
      await backend.ensureGuestUser((why) => emit({ type: 'notice', message: why }));
      return backend;
    }));
    const withKeys = this.branch(this.step('guest-keys', () => this.fetchKeys(guests), (found) => `${found.reduce((n, g) => n + g.keys.length, 0)} key(s)`));
    const leased = this.branch(this.leaseStep());
    const admitted = this.branch(Promise.all([localUser, withKeys]).then(async ([backend, keys]) => {
      // Only once every guest can be invited: a refused invitation leaves this machine as it was.
      const cleaned = await backend.cleanUpDeadRuns();
      for (const what of cleaned) emit({ type: 'notice', message: `Cleaned up after an earlier run that stopped abruptly: ${what}` });
      await this.step('authorized-keys', async () => {
        this.undo.push({ label: 'let the guests out', run: () => backend.dismissGuests() });
        await backend.admitGuests(keys);
      });
    }));
    const tunnelled = this.branch(Promise.all([leased, admitted]).then(([first]) => this.tunnelOnLease(first)));
    const tmux = this.branch(localUser.then((backend) => this.step('tmux', async () => {
      // Kept only once the session was declared: before that there is no work in it to keep.
      this.undo.push({
        label: this.options.keepTmux ? 'leave tmux running for you' : 'stop tmux',
        run: () => (this.options.keepTmux && this.session ? this.keepTmux(backend) : backend.stopTmux()),
      });
      await backend.startTmux();
    })));
    const hostKey = this.branch(localUser.then((backend) => backend.hostKey()));
    // Every branch settles before a failure is thrown: what each one did is on the undo stack by then.
    await Promise.allSettled([localUser, withKeys, leased, admitted, tunnelled, tmux, hostKey]);
    if (this.failure !== undefined) throw this.failure;
    const [lease, key] = await Promise.all([tunnelled, hostKey]);
    // Each sent only where needed: a declaration without them stays what servers before private leases, or before
    // several boxes, accept (they refuse fields they do not know). A lease that names its box comes from a server that knows leaseId.
    const declaration = {
      port: lease.port, guests, hostKey: key, ...(lease.private ? { private: true } : {}), ...(lease.boxId ? { leaseId: lease.leaseId } : {}),
    };
    const session = await this.step('declare', () => api.declareSession(declaration), (s) => `session ${s.id}`);
    // From here on the session holds the lease: ending the session releases it (whichever lease it holds by then).
    this.session = session;
    this.undo.push({ label: 'end the session', run: () => this.requests.run(() => api.endSession(session.id)) });
    this.throwIfStopped();
    emit({ type: 'ready', session: this.readySession(session) });
    this.keepAlive();
  }

  /** What the screen and the reporters show of the session: how guests join, and how the host attaches. */
  private readySession(session: PairingSession): ReadySession {
    return {
      id: session.id, private: session.private, joinCommand: session.joinCommand, pinnedJoinCommand: session.pinnedJoinCommand,
      jumpJoinCommand: session.jumpJoinCommand, pinnedJumpJoinCommand: session.pinnedJumpJoinCommand,
      hostKeyFingerprint: session.hostKeyFingerprint, guests: session.guests, attachCommand: this.backend!.attachCommand(),
    };
  }

  private async keepTmux(backend: HostBackend): Promise<void> {
    this.keptTmux = (await backend.keepTmux())?.map(shellQuote).join(' ');
  }

  /** One of the set-up's concurrent branches: its failure is the set-up's, and the others stop at their next step. */
  private branch<T>(work: Promise<T>): Promise<T> {
    return work.catch((error: unknown) => {
      this.failure ??= error;
      throw error;
    });
  }

  /**
   * Stops what runs and undoes every step, newest first, once the step in flight (if any) has
   * settled, so nothing it set up escapes the undo. Safe to call more than once.
   */
  end(reason: string): Promise<void> {
    this.ending ??= (async () => {
      this.stopped.abort(new HostAborted(reason));
      this.timers.forEach(clearInterval);
      this.options.emit({ type: 'ending', reason });
      await this.starting?.catch(() => {});
      const problems: string[] = [];
      for (const { label, run } of this.undo.reverse()) {
        await run().catch((error: unknown) => problems.push(`could not ${label}: ${(error as Error).message}`));
      }
      this.options.emit({ type: 'ended', reason, problems, ...(this.keptTmux ? { keptTmux: this.keptTmux } : {}) });
    })();
    return this.ending;
  }

  /** Settles when the session is over, whoever ended it. */
  get over(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopped.signal.aborted) resolve();
      else this.stopped.signal.addEventListener('abort', () => resolve(), { once: true });
    }).then(() => this.ending);
  }

  private throwIfStopped(): void {
    if (this.stopped.signal.aborted) throw this.stopped.signal.reason;
    if (this.failure !== undefined) throw this.failure;
  }

  private async step<T>(id: StepId, work: () => Promise<T>, describe?: (result: T) => string): Promise<T> {
    const { emit } = this.options;
    this.throwIfStopped();
    emit({ type: 'step', id, status: 'running', at: Date.now() });
    try {
      const result = await work();
      emit({ type: 'step', id, status: 'done', at: Date.now(), detail: describe?.(result) });
      return result;
    } catch (error) {
      emit({ type: 'step', id, status: 'failed', at: Date.now(), detail: (error as Error).message });
      throw error;
    }
  }

  /** Every guest's keys, or one error naming every guest who cannot join, before anything changed. */
  private async fetchKeys(guests: Guest[]): Promise<GuestKeys[]> {
    const results = await Promise.allSettled(guests.map(async (guest) => ({ ...guest, keys: await this.options.api.publicKeys(guest.username) })));
    const problems = results.flatMap((result, i) => {
      const { username } = guests[i]!;
      if (result.status === 'rejected') {
        const error = result.reason as Error;
        return [error instanceof ApiError && error.status === 404 ? `there is no account called "${username}"` : `${username}: ${error.message}`];
      }
      return result.value.keys.length === 0 ? [`${username} has no SSH key yet (they can add one with \`tmuxme keys add\`)`] : [];
    });
    if (problems.length > 0) throw new Error(`Cannot invite: ${problems.join('; ')}.`);
    return results.map((result) => (result as PromiseFulfilledResult<GuestKeys>).value);
  }

  /** A lease, given back at the undo unless a declared session holds it by then. */
  private async leaseStep(): Promise<HeldLease> {
    const lease = await this.step('lease', () => this.leasePort(), (held) => `${held.private ? 'private ' : ''}port ${held.port} on ${held.tunnelHost}`);
    const giveBack = { label: `give back the lease on port ${lease.port}`, run: () => (this.session ? Promise.resolve() : this.options.api.giveBackLease(lease.leaseId)) };
    this.undo.push(giveBack);
    return { lease, giveBack };
  }

  /** Opens the tunnel on the leased port; a port the box refuses is given back and another leased. */
  private async tunnelOnLease(first: HeldLease): Promise<PortLease> {
    const { portAttempts = 3 } = this.options;
    let { lease, giveBack } = first;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const forwards = `${lease.tunnelHost}:${lease.port} forwards to this machine${lease.private ? " (on the box's loopback only)" : ''}`;
        this.tunnel = await this.step('tunnel', () => this.openTunnelRetryingAuth(lease), () => forwards);
        this.undo.push({ label: 'close the tunnel', run: () => this.tunnel?.close() ?? Promise.resolve() });
        this.lease = lease;
        return lease;
      } catch (error) {
        if (!(error instanceof TunnelPortRefused) || attempt >= portAttempts) throw error;
        this.options.emit({ type: 'notice', message: `The box refused port ${lease.port}; leasing another (attempt ${attempt + 1} of ${portAttempts}).` });
        this.undo.splice(this.undo.indexOf(giveBack), 1);
        await giveBack.run().catch(() => {});
        ({ lease, giveBack } = await this.leaseStep());
      }
    }
  }

  /** A lease of the kind asked for: a server that ignores `private` must not turn a private session public. */
  private async leasePort(avoidBox?: string): Promise<PortLease> {
    const { api, private: isPrivate = false } = this.options;
    const lease = await api.leasePort({ private: isPrivate, ...(avoidBox ? { avoidBox } : {}) });
    if (isPrivate && lease.private !== true) {
      await api.giveBackLease(lease.leaseId).catch(() => {});
      throw new Error(`the server leased a public port (${lease.port}) though a private one was asked for: it does not know private sessions yet. `
        + 'Host without --private, or ask its operator to upgrade.');
    }
    return lease;
  }

  private async openTunnelRetryingAuth(lease: PortLease, readyTimeoutMs?: number): Promise<OpenTunnel> {
    const deadline = Date.now() + (this.options.tunnelAuthRetryMs ?? 8_000);
    for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
      this.throwIfStopped();
      try {
        return await this.backend!.openTunnel(lease, readyTimeoutMs === undefined ? undefined : { readyTimeoutMs });
      } catch (error) {
        if (!(error instanceof TunnelAuthRefused) || Date.now() + delay > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Heartbeats, the guest list, and the end when tmux or the tunnel goes away. */
  private keepAlive(): void {
    // Every poll runs tmux; each run costs the host's machine a little, felt as keystroke latency.
    const { api, emit, pollGuestsMs = 2_000 } = this.options;
    const backend = this.backend!;
    const session = this.session!;
    const heartbeatMs = this.options.heartbeatMs ?? Math.max(1_000, (Date.parse(session.expiresAt) - Date.now()) / 3);
    this.timers.push(setInterval(() => {
      // Left out while a move or the end is under way (two writes at once lose one); the next beat is well before the expiry.
      this.requests.runIfIdle(() => api.heartbeat(session.id))?.catch((error: Error) => {
        if (error instanceof ApiError && error.status === 404) return void this.end('the server ended the session');
        emit({ type: 'notice', message: `Heartbeat failed (${error.message}); the session expires unless the next one gets through.` });
      });
    }, heartbeatMs));
    this.timers.push(setInterval(() => this.pollGuests(), pollGuestsMs));
    backend.watchGuests?.(() => this.pollGuests());
    void backend.tmuxEnded?.().then(() => this.end('the tmux session ended'));
    this.watchTunnel();
  }

  /** Reads who is connected and reports who came and went; a poll asked for while one runs runs right after it. */
  private pollGuests(): void {
    if (this.stopped.signal.aborted) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    const backend = this.backend!;
    (async () => {
      const connected = await backend.connectedGuests().catch(() => undefined);
      if (this.stopped.signal.aborted) return;
      if (connected) return this.reportGuests(connected);
      if (!(await backend.tmuxRunning())) void this.end('the tmux session ended');
    })().catch(() => {}).finally(() => {
      this.polling = false;
      if (this.pollAgain) {
        this.pollAgain = false;
        this.pollGuests();
      }
    });
  }

  private reportGuests(connected: ConnectedGuest[]): void {
    const { emit } = this.options;
    const at = Date.now();
    const keys = (guests: ConnectedGuest[]) => new Set(guests.map(connectionKey));
    const [before, now] = [keys(this.connected), keys(connected)];
    const arrived = connected.filter((guest) => !before.has(connectionKey(guest)));
    const left = this.connected.filter((guest) => !now.has(connectionKey(guest)));
    if (arrived.length === 0 && left.length === 0) return;
    this.connected = connected;
    for (const guest of left) emit({ type: 'guest', change: 'left', guest, at });
    for (const guest of arrived) emit({ type: 'guest', change: 'connected', guest, at });
    emit({ type: 'guests', connected });
  }

  /** Ends one guest's connection where the backend can (false where it cannot, or the guest had gone). */
  async disconnectGuest(connectionId: string): Promise<boolean> {
    const ended = await this.backend?.disconnectGuest?.(connectionId) ?? false;
    this.pollGuests();
    return ended;
  }

  /** A dropped tunnel comes back on its box, or on another box the session moves to; the session ends only if neither will. */
  private watchTunnel(): void {
    const tunnel = this.tunnel!;
    void tunnel.dropped.then(async (error) => {
      if (this.stopped.signal.aborted || tunnel !== this.tunnel) return;
      const { api, emit, reopenWithinMs = 5_000 } = this.options;
      const from = this.lease!;
      emit({ type: 'notice', message: `The tunnel dropped (${error.message}); reopening it.` });
      const recovery = await recoverTunnel(from, {
        api, sessionId: this.session!.id, requests: this.requests, signal: this.stopped.signal, ...this.options.recovery,
        leasePort: (avoidBox) => this.leasePort(avoidBox),
        openTunnel: (lease) => this.openTunnelRetryingAuth(lease, reopenWithinMs),
        notice: (message) => emit({ type: 'notice', message }),
      });
      if (recovery.outcome === 'stopped') return;
      if (recovery.outcome === 'lost') return void this.end(recovery.reason);
      // The session ended as the tunnel came back: the undo has closed the one before it, so this one is ours to close.
      if (this.stopped.signal.aborted) return void recovery.tunnel.close();
      this.tunnel = recovery.tunnel;
      if (recovery.outcome === 'reopened') emit({ type: 'notice', message: 'The tunnel is back.' });
      else {
        ({ lease: this.lease, session: this.session } = recovery);
        const to = recovery.session;
        emit({
          type: 'moved', session: this.readySession(to), at: Date.now(),
          from: { tunnelHost: from.tunnelHost, port: from.port }, to: { tunnelHost: to.tunnelHost, port: to.port },
        });
      }
      this.watchTunnel();
    });
  }
}
