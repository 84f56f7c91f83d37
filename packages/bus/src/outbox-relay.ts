import type mongoose from 'mongoose';
import type { Envelope } from '@tmuxme/events';
import type { Bus } from './bus.js';
import type { BusLogger } from './logger.js';

/** Relayed models differ in their document types; the outbox only touches the fields the plugin added. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OutboxModel = mongoose.Model<any>;

/**
 * One staged event. These documents are only ever inserted and deleted, never updated, so FerretDB's
 * non-atomic updates cannot touch them. (No indexes: the collection holds only what is in flight.)
 */
export interface StagedEvent {
  _id: string;
  envelope: Envelope;
  aggregate: { collection: string; id: unknown };
  createdAt: Date;
}

export interface StagedEventRelayOptions {
  staging: mongoose.Collection<StagedEvent>;
  bus: Bus;
  /** By collection name, as staged events name their aggregate. */
  models: Map<string, OutboxModel>;
  intervalMs: number;
  batchSize: number;
  graceMs: number;
  logger: BusLogger;
}

/**
 * Publishes the staged events whose aggregate write happened, and discards those whose write never did.
 *
 * It reads aggregates but never writes them (but for deleting purged tombstones), so it cannot race a
 * service's own updates. Every replica of a service may run one: two relays can both publish an event
 * before either deletes it, so delivery is at least once, and the consumers' inbox (the envelope id as
 * dedupe key) turns the duplicate into a no-op.
 */
export class StagedEventRelay {
  private interval: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private failing = false;
  /** Full tombstone sweeps are a scan on FerretDB; most passes only look at what they were told of or just published. */
  private lastFullSweep = 0;
  /** Documents to look at in the next pass's purge, by collection name. */
  private toLookAt = new Map<string, Set<unknown>>();
  /** Events published as their inserts finish, one insert's after another's, in the order written. */
  private lane: Promise<void> = Promise.resolve();
  /**
   * Staged events this relay is publishing right now or published lately, by id, so that it publishes
   * each once: a pass may read an event before or while the insert's own publish handles it.
   */
  private readonly publishing = new Set<string>();
  private readonly publishedLately = new Set<string>();

  constructor(private readonly options: StagedEventRelayOptions) {}

  start(): void {
    if (this.interval || this.stopped) return;
    this.interval = setInterval(() => this.nudge(), this.options.intervalMs);
    this.nudge();
  }

  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.soon ??= setTimeout(() => {
      this.soon = undefined;
      this.run();
    }, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    clearTimeout(this.soon);
    await Promise.all([this.running, this.lane]);
  }

  /**
   * Publishes the events of a document just inserted, which holds them for sure (an insert is one
   * atomic write), without waiting for a pass: passes read the whole staging collection, a scan on
   * FerretDB. They are left with updates (which a concurrent update may undo), a broker that was down,
   * and what another replica staged.
   */
  relayInserted(staged: StagedEvent[]): void {
    const mine = staged.filter((event) => !this.handled(event._id));
    if (this.stopped || mine.length === 0) return;
    for (const event of mine) this.publishing.add(event._id);
    this.lane = this.lane.then(async () => {
      // Not looked at for purging: a document just inserted is rarely gone already, and one that is
      // waits in the purge's list while this publishes its events (see purgeTombstones).
      for (const event of mine) if (!this.stopped) await this.publish(event, { purge: false });
    }).catch(() => {
      // Still staged; a pass retries, and says so once if the broker is out.
      this.nudge();
    }).finally(() => {
      for (const event of mine) this.publishing.delete(event._id);
    });
  }

  private handled(eventId: string): boolean {
    return this.publishing.has(eventId) || this.publishedLately.has(eventId);
  }

  private async publish({ _id, envelope, aggregate }: StagedEvent, { purge = true } = {}): Promise<void> {
    await this.options.bus.publish(envelope);
    this.publishedLately.add(_id);
    // A Set iterates in insertion order: the oldest id goes first.
    if (this.publishedLately.size > publishedLatelyKept) this.publishedLately.delete(this.publishedLately.values().next().value!);
    await this.options.staging.deleteOne({ _id });
    if (purge) this.toPurge(aggregate.collection, aggregate.id);
  }

  private run(): void {
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.nudge();
      }
    });
  }

  private async pass(): Promise<void> {
    const { logger } = this.options;
    let failure: unknown;
    try {
      if (await this.relayBatch()) this.again = true;
    } catch (error) {
      failure = error;
    }
    // Still purges while the broker is down: tombstones whose events went out before need not wait.
    // Taken before the first await: a document marked gone while this purge runs waits for the next.
    const due = this.toLookAt;
    this.toLookAt = new Map();
    try {
      const sweep = Date.now() - this.lastFullSweep >= fullSweepEvery * this.options.intervalMs;
      if (sweep) this.lastFullSweep = Date.now();
      for (const [name, model] of this.options.models) {
        const ids = sweep ? undefined : [...(due.get(name) ?? [])];
        if (sweep || ids!.length > 0) await this.purgeTombstones(name, model, ids);
      }
    } catch (error) {
      for (const [name, ids] of due) for (const id of ids) this.toPurge(name, id);
      failure ??= error;
    }
    if (failure === undefined && this.failing) {
      this.failing = false;
      logger.info({}, 'outbox relay is publishing again');
    } else if (failure !== undefined && !this.failing) {
      // The events stay staged, and the interval tries again; one line per outage is enough.
      this.failing = true;
      logger.warn({ err: failure }, 'outbox relay paused: events wait in the outbox');
    }
  }

  /** Returns whether more may be waiting: a full batch in which something moved. */
  private async relayBatch(): Promise<boolean> {
    const { staging, models, batchSize, graceMs, logger } = this.options;
    const batch = await staging.find({ 'aggregate.collection': { $in: [...models.keys()] } })
      .sort({ createdAt: 1 }).limit(batchSize).toArray();
    let moved = false;
    for (const staged of batch) {
      if (this.stopped) return false;
      if (this.publishing.has(staged._id)) continue;
      if (this.publishedLately.has(staged._id)) {
        // Published already; only its staged copy was left (its delete failed, or is under way).
        await staging.deleteOne({ _id: staged._id });
        continue;
      }
      const { envelope, aggregate } = staged;
      if (await this.committed(staged)) {
        // The insert's own publish may have taken it while this read the aggregate.
        if (this.handled(staged._id)) continue;
        this.publishing.add(staged._id);
        await this.publish(staged).finally(() => this.publishing.delete(staged._id));
        moved = true;
      } else if (Date.now() - staged.createdAt.getTime() > graceMs) {
        // Its write failed, crashed or was overwritten by a concurrent update: the state this event
        // describes is not there, so it must not go out.
        await staging.deleteOne({ _id: staged._id });
        logger.warn({ eventId: envelope.id, type: envelope.type, aggregate }, 'outbox discarded an event its aggregate never recorded');
        moved = true;
      }
      // Otherwise the write is likely still in flight; a later pass looks again.
    }
    return moved && batch.length === batchSize;
  }

  /** Looks at this document in the next pass's purge, by `_id`: it was just published, or just marked gone. */
  toPurge(collection: string, id: unknown): void {
    const ids = this.toLookAt.get(collection) ?? new Set();
    this.toLookAt.set(collection, ids.add(id));
  }

  private async committed({ _id, aggregate }: StagedEvent): Promise<boolean> {
    const model = this.options.models.get(aggregate.collection)!;
    // The raw collection, so a service's query middleware (say, hiding tombstones) cannot hide the document.
    // By `_id` alone, the one filter FerretDB v1 answers from an index (docs/architecture.md §8).
    const found = await model.collection.findOne({ _id: asId(aggregate.id) }, { projection: { eventIds: 1 } });
    return (found?.eventIds as unknown[] | undefined)?.includes(_id) === true;
  }

  /**
   * Deletes soft-deleted documents whose events all went out. The tombstones are read before the staged
   * events: a deletion seen by the first read was written after its events were staged, so the second
   * read sees them unless they were already relayed. (The other order could miss a deletion landing in
   * between and purge it with its event still staged; the relay would then discard that event.)
   * The documents just relayed are read one by one by `_id`; only the occasional full sweep scans.
   */
  private async purgeTombstones(name: string, model: OutboxModel, among?: unknown[]): Promise<void> {
    const { staging, batchSize } = this.options;
    const tombstones = among
      ? (await Promise.all(among.map((id) => model.collection.findOne({ _id: asId(id) }, { projection: { deletedAt: 1 } }))))
        .filter((found) => found?.deletedAt != null)
      : await model.collection.find({ deletedAt: { $ne: null } }, { projection: { _id: 1 } }).limit(batchSize).toArray();
    if (tombstones.length === 0) return;
    const ids = tombstones.map((tombstone) => tombstone!._id);
    const waiting = new Set((await staging.distinct('aggregate.id', { 'aggregate.collection': name, 'aggregate.id': { $in: ids } })).map(String));
    // Its events still staged (say, the insert's own, when it ended at once), a tombstone waits for the next pass.
    for (const id of ids) if (waiting.has(String(id))) this.toPurge(name, id);
    // A tombstone is final, so deleting it by `_id` alone cannot take a document that came back to life.
    await Promise.all(ids.filter((id) => !waiting.has(String(id))).map((id) => model.collection.deleteOne({ _id: id })));
  }
}

/** Published event ids remembered; far more than can be staged between a pass's read and its publish. */
const publishedLatelyKept = 10_000;

/** Every this many intervals the relay looks for all tombstones, catching any a crash left behind. */
const fullSweepEvery = 60;

/** An aggregate's id is whatever its model's `_id` is; the driver's filter types assume an ObjectId. */
function asId(id: unknown): mongoose.Types.ObjectId {
  return id as mongoose.Types.ObjectId;
}
