import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { ProjectionStore } from '../model/projection-store.js';
import { AuthorizedKeysWriter } from './authorized-keys-writer.js';
import { Coalescer } from './coalescer.js';
import type { Change, ProjectionState } from './projection-state.js';
import { renderAuthorizedKeys, type KeyEntry } from './render-authorized-keys.js';
import { renderJoinAuthorizedKeys } from './render-join-authorized-keys.js';
import type { SnapshotSource } from './snapshot-source.js';

export interface ProjectionDeps {
  state: ProjectionState;
  store: ProjectionStore;
  /** Which leases and sessions are this box's: the `boxId` that sessions stamps on them. */
  boxId: string;
  /** The box's host name, which named the box in events from before box ids. */
  tunnelHost: string;
  authorizedKeysFile: string;
  privateAuthorizedKeysFile: string;
  joinAuthorizedKeysFile: string;
  /** Owns all three files. */
  tunnelGroup: string;
  /** Absent when no service credential is configured: the box then lives on events alone. */
  snapshots?: SnapshotSource;
  /** Log entries after which the state is checkpointed, which keeps loading at start quick. */
  checkpointEvery: number;
  /**
   * How far behind this box's events a snapshot may be: keys and sessions answer snapshots from memory
   * that their own copies of the events keep current. What an event added this recently is kept even
   * when a snapshot lacks it; far longer than event delivery takes.
   */
  snapshotLagMs: number;
  logger: FastifyBaseLogger;
}

/** Host names are compared as DNS does, without regard to case. */
const sameHost = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Where an event says its lease or session is; events from before box ids name the box by host name alone. */
interface OnBox {
  boxId?: string;
  tunnelHost: string;
}

export interface ConvergeReport {
  keys: number;
  leases: number;
  sessions: number;
  /** Entries added or tombstoned to match the snapshot. */
  changes: number;
  readMs: number;
  /** From the start until the files were written. */
  writtenMs: number;
  /** From the start until the converged state was checkpointed. */
  savedMs: number;
}

/** The box's authorized_keys files: the tunnel user's (public leases), the private tunnel user's, and the join user's. */
export type KeyFileName = 'tunnel' | 'private' | 'join';
const allFiles: readonly KeyFileName[] = ['tunnel', 'private', 'join'];
/** Which files a change can alter; a lease decides which sessions count in the join file too. */
const filesOf = (change: Change): readonly KeyFileName[] => (change.op === 'session' || change.op === 'session-ended' ? ['join'] : allFiles);
/** The id a change adds, which a snapshot read meanwhile may lack. */
const addedId = (change: Change) => (change.op === 'key' ? change.keyId : change.op === 'lease' ? change.leaseId : change.op === 'session' ? change.sessionId : undefined);

/**
 * The box's projection: applies events and snapshots to the in-memory state (the rendering input),
 * records them durably, and keeps the authorized_keys files in step. Every change runs in one lane, in arrival
 * order; the consumer's prefetch of 1 keeps events in queue order before that.
 */
export class Projection {
  private lane: Promise<unknown> = Promise.resolve();
  /** Ids that events added while a snapshot was being read; the snapshot may be older than they are. */
  private addedDuringSnapshot: Set<string> | undefined;
  /** Ids events added lately, and when: a snapshot may lag them by up to `snapshotLagMs`. */
  private readonly addedLately = new Map<string, number>();
  private readonly reportedInvalid = new Set<string>();
  private readonly stopping = new AbortController();
  private readonly convergence = new Coalescer(() => this.convergeOnce());
  /** Checkpoint writes, one after another. */
  private saving: Promise<unknown> = Promise.resolve();
  readonly writers: Readonly<Record<KeyFileName, AuthorizedKeysWriter>>;

  constructor(private readonly deps: ProjectionDeps) {
    const onInvalidKey = (key: KeyEntry, error: Error) => this.reportInvalid(key, error);
    const writer = (file: string, render: () => string) => new AuthorizedKeysWriter({ file, group: deps.tunnelGroup, render, logger: deps.logger });
    this.writers = {
      tunnel: writer(deps.authorizedKeysFile, () => renderAuthorizedKeys(deps.state, { onInvalidKey })),
      private: writer(deps.privateAuthorizedKeysFile, () => renderAuthorizedKeys(deps.state, { private: true, onInvalidKey })),
      join: writer(deps.joinAuthorizedKeysFile, () => renderJoinAuthorizedKeys(deps.state, { onInvalidKey })),
    };
  }

  /** False while any of the files could not be written. */
  get healthy(): boolean {
    return allFiles.every((name) => this.writers[name].healthy);
  }

  addKey({ keyId, userId, key }: { keyId: string; userId: string; key: string }) {
    return this.change({ op: 'key', keyId, userId, key });
  }

  removeKey({ keyId }: { keyId: string }) {
    return this.change({ op: 'key-removed', keyId });
  }

  /** Leases on other boxes are none of this box's business (the queue's bindings keep them out; this checks). */
  async lease({ leaseId, userId, port, private: isPrivate = false, ...box }: { leaseId: string; userId: string; port: number; private?: boolean } & OnBox) {
    if (this.isOurs(box)) await this.change({ op: 'lease', leaseId, userId, port, private: isPrivate });
  }

  async release({ leaseId, ...box }: { leaseId: string } & OnBox) {
    if (this.isOurs(box)) await this.change({ op: 'lease-released', leaseId });
  }

  /** Sessions on other boxes are none of this box's business either. */
  async declareSession({ sessionId, host, guests, port, ...box }: {
    sessionId: string; host: { userId: string }; guests: readonly { userId: string }[]; port: number;
  } & OnBox) {
    if (!this.isOurs(box)) return;
    await this.change({ op: 'session', sessionId, hostUserId: host.userId, port, guestUserIds: guests.map((guest) => guest.userId) });
  }

  /** A session moved here from a box its host lost: its guests may take the jump path to its new port. */
  moveSession({ sessionId, host, guests, to }: { sessionId: string; host: { userId: string }; guests: readonly { userId: string }[]; to: OnBox & { port: number } }) {
    return this.declareSession({ sessionId, host, guests, ...to });
  }

  /** Leases held on this box now, for its heartbeat. */
  get liveLeases(): number {
    return this.deps.state.size.leases;
  }

  private isOurs({ boxId, tunnelHost }: OnBox): boolean {
    return boxId === undefined ? sameHost(tunnelHost, this.deps.tunnelHost) : boxId === this.deps.boxId;
  }

  /** SessionEnded names no box, so every box keeps the tombstone: a late SessionDeclared then changes nothing. */
  endSession({ sessionId }: { sessionId: string }) {
    return this.change({ op: 'session-ended', sessionId });
  }

  deleteUser({ userId }: { userId: string }) {
    return this.change({ op: 'user-deleted', userId });
  }

  /** Writes the files for the current state; the first call is the start-up render. */
  async write(files: readonly KeyFileName[] = allFiles): Promise<void> {
    await Promise.all(files.map((name) => this.writers[name].request()));
  }

  /** Replaces the projection with a fresh snapshot; calls during one share the next. */
  converge(): Promise<ConvergeReport> {
    return this.convergence.run();
  }

  /** Converges, retrying with back-off until it works or the service stops. */
  async convergeUntilDone(): Promise<void> {
    const { signal } = this.stopping;
    for (let delay = 1000; !signal.aborted; delay = Math.min(delay * 2, 60_000)) {
      try {
        this.deps.logger.info(await this.converge(), 'converged from the snapshot');
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.deps.logger.warn({ err: error, retryInMs: delay }, 'could not converge from the snapshot; retrying');
        await sleep(delay, undefined, { signal }).catch(() => {});
      }
    }
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await this.convergence.idle();
    await this.lane;
    await this.saving;
    await Promise.all(allFiles.map((name) => this.writers[name].close()));
  }

  private change(change: Change): Promise<void> {
    return this.serially(async () => {
      // On disk before it shows: the event is acknowledged after this, and a crash replays the log.
      await this.deps.store.append(change);
      if (this.deps.state.apply(change)) {
        const id = addedId(change);
        if (id !== undefined) {
          this.addedDuringSnapshot?.add(id);
          this.addedLately.set(id, Date.now());
          if (this.addedLately.size > 10_000) this.recentlyAdded();
        }
        this.write(filesOf(change)).catch(() => {}); // the writers log and retry failures themselves
      }
      if (this.deps.store.logLength >= this.deps.checkpointEvery) {
        this.checkpoint().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'checkpoint failed; the log still has every change'));
      }
    });
  }

  /** The ids events added within the snapshot lag; older ones are forgotten. */
  private recentlyAdded(): Set<string> {
    const added = new Set<string>();
    for (const [id, at] of this.addedLately) {
      if (Date.now() - at < this.deps.snapshotLagMs) added.add(id);
      else this.addedLately.delete(id);
    }
    return added;
  }

  private async convergeOnce(): Promise<ConvergeReport> {
    const { snapshots, state } = this.deps;
    if (!snapshots) throw new Error('no snapshot source: set SERVICE_TOKEN, KEYS_URL and SESSIONS_URL');
    const started = performance.now();
    const since = (start: number) => Math.round(performance.now() - start);
    const added = this.recentlyAdded();
    this.addedDuringSnapshot = added;
    try {
      const snapshot = await snapshots.read(this.stopping.signal);
      const readMs = since(started);
      const { changes, saved } = await this.serially(() => ({ changes: state.replaceWith(snapshot, added), saved: this.checkpoint() }));
      let writtenMs = 0;
      await Promise.all([this.write().then(() => { writtenMs = since(started); }), saved]);
      const { keys, leases, sessions } = snapshot;
      return { keys: keys.length, leases: leases.length, sessions: sessions.length, changes: changes.length, readMs, writtenMs, savedMs: since(started) };
    } finally {
      this.addedDuringSnapshot = undefined;
    }
  }

  /**
   * Only from inside the lane: the dump and the switch to a new log happen between two changes, so
   * each change is in exactly one of them. The base is written after, while events go on.
   */
  private checkpoint(): Promise<void> {
    const { store, state } = this.deps;
    const dump = state.dump();
    const generation = store.rotate();
    const written = this.saving.then(() => store.writeBase(generation, dump));
    this.saving = written.catch(() => {});
    return written;
  }

  private serially<T>(work: () => Promise<T> | T): Promise<T> {
    const result = this.lane.then(work);
    this.lane = result.catch(() => {});
    return result;
  }

  private reportInvalid(key: KeyEntry, error: Error) {
    if (this.reportedInvalid.has(key.keyId)) return;
    this.reportedInvalid.add(key.keyId);
    this.deps.logger.warn({ keyId: key.keyId, userId: key.userId, reason: error.message }, 'key left out of authorized_keys: it fails validation');
  }
}
