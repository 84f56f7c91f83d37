import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { ProjectionStore } from '../model/projection-store.js';
import { AuthorizedKeysWriter } from './authorized-keys-writer.js';
import { Coalescer } from './coalescer.js';
import type { Change, ProjectionState } from './projection-state.js';
import { renderAuthorizedKeys, type KeyEntry } from './render-authorized-keys.js';
import { sameHost, type SnapshotSource } from './snapshot-source.js';

export interface ProjectionDeps {
  state: ProjectionState;
  store: ProjectionStore;
  /** Which leases are this box's: the `tunnelHost` that sessions stamps on them. */
  tunnelHost: string;
  authorizedKeysFile: string;
  tunnelGroup: string;
  /** Absent when no service credential is configured: the box then lives on events alone. */
  snapshots?: SnapshotSource;
  /** Log entries after which the state is checkpointed, which keeps loading at start quick. */
  checkpointEvery: number;
  logger: FastifyBaseLogger;
}

export interface ConvergeReport {
  keys: number;
  leases: number;
  /** Entries added or tombstoned to match the snapshot. */
  changes: number;
  readMs: number;
  /** From the start until the file was written. */
  writtenMs: number;
  /** From the start until the converged state was checkpointed. */
  savedMs: number;
}

/**
 * The box's projection: applies events and snapshots to the in-memory state (the rendering input),
 * records them durably, and keeps authorized_keys in step. Every change runs in one lane, in arrival
 * order; the consumer's prefetch of 1 keeps events in queue order before that.
 */
export class Projection {
  private lane: Promise<unknown> = Promise.resolve();
  /** Ids that events added while a snapshot was being read; the snapshot may be older than they are. */
  private addedDuringSnapshot: Set<string> | undefined;
  private readonly reportedInvalid = new Set<string>();
  private readonly stopping = new AbortController();
  private readonly convergence = new Coalescer(() => this.convergeOnce());
  /** Checkpoint writes, one after another. */
  private saving: Promise<unknown> = Promise.resolve();
  readonly writer: AuthorizedKeysWriter;

  constructor(private readonly deps: ProjectionDeps) {
    this.writer = new AuthorizedKeysWriter({
      file: deps.authorizedKeysFile,
      group: deps.tunnelGroup,
      render: () => renderAuthorizedKeys(deps.state, { onInvalidKey: (key, error) => this.reportInvalid(key, error) }),
      logger: deps.logger,
    });
  }

  addKey({ keyId, userId, key }: { keyId: string; userId: string; key: string }) {
    return this.change({ op: 'key', keyId, userId, key });
  }

  removeKey({ keyId }: { keyId: string }) {
    return this.change({ op: 'key-removed', keyId });
  }

  /** Leases on other boxes are none of this box's business. */
  async lease({ leaseId, userId, tunnelHost, port }: { leaseId: string; userId: string; tunnelHost: string; port: number }) {
    if (sameHost(tunnelHost, this.deps.tunnelHost)) await this.change({ op: 'lease', leaseId, userId, port });
  }

  async release({ leaseId, tunnelHost }: { leaseId: string; tunnelHost: string }) {
    if (sameHost(tunnelHost, this.deps.tunnelHost)) await this.change({ op: 'lease-released', leaseId });
  }

  deleteUser({ userId }: { userId: string }) {
    return this.change({ op: 'user-deleted', userId });
  }

  /** Writes the file for the current state; the first call is the start-up render. */
  write() {
    return this.writer.request();
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
    await this.writer.close();
  }

  private change(change: Change): Promise<void> {
    return this.serially(async () => {
      // On disk before it shows: the event is acknowledged after this, and a crash replays the log.
      await this.deps.store.append(change);
      if (this.deps.state.apply(change)) {
        if (change.op === 'key') this.addedDuringSnapshot?.add(change.keyId);
        if (change.op === 'lease') this.addedDuringSnapshot?.add(change.leaseId);
        this.writer.request().catch(() => {}); // the writer logs and retries failures itself
      }
      if (this.deps.store.logLength >= this.deps.checkpointEvery) {
        this.checkpoint().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'checkpoint failed; the log still has every change'));
      }
    });
  }

  private async convergeOnce(): Promise<ConvergeReport> {
    const { snapshots, state } = this.deps;
    if (!snapshots) throw new Error('no snapshot source: set SERVICE_TOKEN, KEYS_URL and SESSIONS_URL');
    const started = performance.now();
    const since = (start: number) => Math.round(performance.now() - start);
    const added = new Set<string>();
    this.addedDuringSnapshot = added;
    try {
      const snapshot = await snapshots.read(this.stopping.signal);
      const readMs = since(started);
      const { changes, saved } = await this.serially(() => ({ changes: state.replaceWith(snapshot, added), saved: this.checkpoint() }));
      let writtenMs = 0;
      await Promise.all([this.writer.request().then(() => { writtenMs = since(started); }), saved]);
      return { keys: snapshot.keys.length, leases: snapshot.leases.length, changes: changes.length, readMs, writtenMs, savedMs: since(started) };
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
