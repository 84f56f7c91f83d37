import type mongoose from 'mongoose';
import type { Envelope } from '@tmuxme/events';
import type { Bus } from './bus.js';
import { silentLogger, type BusLogger } from './logger.js';
import { StagedEventRelay, type OutboxModel, type StagedEvent } from './outbox-relay.js';

/*
 * The transactional outbox without transactions. FerretDB v1 has none, and an update there reads the
 * document, applies the operator and writes the whole document back, so two updates of one document
 * can lose each other's change. An outbox kept inside the aggregate would race with the relay that
 * empties it. Instead every event is first inserted on its own into a staging collection (an insert is
 * atomic), and the aggregate's write records the event ids beside the state change in that same single-
 * document write. The relay publishes exactly the staged events whose ids made it into their aggregate:
 * a state change lost to a concurrent update loses its event id with it, so its event never goes out.
 */

/** What `outboxFields` adds to a document, for services to add to their document types. */
export interface OutboxFields {
  /** The events this document's writes produced; the relay publishes a staged event only once it is here. */
  eventIds: string[];
  /** Set instead of deleting, so the deletion can carry its event; the relay purges the document later. */
  deletedAt: Date | null;
}

/**
 * Adds `eventIds` and `deletedAt` to an aggregate's schema. Write through `Outbox.write`, and read
 * live documents with `{ deletedAt: null }`.
 */
export function outboxFields(schema: mongoose.Schema): void {
  schema.add({
    eventIds: { type: [String], default: [] },
    deletedAt: { type: Date, default: null },
  });
}

export type { OutboxModel };

export interface OutboxOptions {
  /** The service's own database, which holds the staging collection beside the aggregates. */
  connection: mongoose.Connection;
  bus: Bus;
  /** Every model whose writes carry events; `write` refuses any other. */
  models: OutboxModel[];
  collection?: string;
  intervalMs?: number;
  /** Staged events read per pass; a full batch that made progress makes the next pass follow at once. */
  batchSize?: number;
  /**
   * How long a staged event may wait for its aggregate's write to reference it before it counts as
   * never written. It must exceed the longest a write can take; `write` re-stages after slow writes.
   */
  graceMs?: number;
  logger?: BusLogger;
}

export interface OutboxAggregate {
  model: OutboxModel;
  id: unknown;
  /** `apply` inserts the document: its events then go out as soon as it returns, without waiting for a pass. */
  inserted?: boolean;
}

export class Outbox {
  private readonly staging: mongoose.Collection<StagedEvent>;
  private readonly models: Map<string, OutboxModel>;
  private readonly graceMs: number;
  private readonly relay: StagedEventRelay;

  constructor(options: OutboxOptions) {
    this.staging = options.connection.collection<StagedEvent>(options.collection ?? 'outbox');
    this.models = new Map(options.models.map((model) => [model.collection.name, model]));
    this.graceMs = options.graceMs ?? 30_000;
    this.relay = new StagedEventRelay({
      staging: this.staging,
      bus: options.bus,
      models: this.models,
      intervalMs: options.intervalMs ?? 1000,
      batchSize: options.batchSize ?? 100,
      graceMs: this.graceMs,
      logger: options.logger ?? silentLogger,
    });
  }

  /**
   * Stages the events, then runs `apply`, the aggregate's one single-document write, which must store
   * every given id in the document's `eventIds` along with the change: create the document with
   * `eventIds`, or `updateOne(filter, { ..., $push: { eventIds: { $each: eventIds } } })`.
   * An update that matches nothing is fine: its events are discarded once `graceMs` has passed.
   */
  async write<T>(events: Envelope[], aggregate: OutboxAggregate, apply: (eventIds: string[]) => Promise<T>): Promise<T> {
    const name = aggregate.model.collection.name;
    if (this.models.get(name) !== aggregate.model) {
      throw new Error(`the outbox does not relay the "${name}" collection: pass its model to the Outbox`);
    }
    // Cast as the model would (a hex string to an ObjectId), since the relay queries the stored id as it is.
    const id: unknown = aggregate.model.castObject({ _id: aggregate.id })._id;
    const eventIds = events.map((event) => event.id);
    const stagedAt = Date.now();
    const staged = await this.stage(events, name, id);
    let result: T;
    try {
      result = await apply(eventIds);
    } catch (error) {
      // Left behind, the relay would discard them after graceMs anyway; this only saves the wait.
      await this.staging.deleteMany({ _id: { $in: eventIds } }).catch(() => {});
      throw error;
    }
    // A write this slow may have outlived its staged events: a relay could have found them unreferenced
    // and discarded them. Staging them again costs at worst a duplicate, which consumers drop.
    if (Date.now() - stagedAt > this.graceMs / 2) await this.stage(events, name, id, { again: true });
    if (aggregate.inserted) this.relay.relayInserted(staged);
    else this.nudge();
    return result;
  }

  /**
   * Tells the relay a document was just marked gone (`deletedAt`) without an event of its own, so its
   * next pass purges it by `_id` instead of waiting for its occasional full sweep.
   */
  markedGone(model: OutboxModel, id: unknown): void {
    this.relay.toPurge(model.collection.name, model.castObject({ _id: id })._id);
  }

  /** Relays now and then every interval, which picks up what was written while the broker was down. */
  start(): void {
    this.relay.start();
  }

  /**
   * Asks for a pass soon; `write` does this itself after an update. Nudges before a pass starts make one
   * pass, and nudges during a pass make exactly one more, since the running pass may have read before the write.
   */
  nudge(): void {
    this.relay.nudge();
  }

  /** Stops relaying; resolves once the pass in flight has finished. */
  stop(): Promise<void> {
    return this.relay.stop();
  }

  /** The events staged but not yet published or discarded (the outbox backlog metric). */
  pendingCount(): Promise<number> {
    return this.staging.countDocuments();
  }

  private async stage(events: Envelope[], collection: string, id: unknown, { again = false } = {}): Promise<StagedEvent[]> {
    if (events.length === 0) return [];
    const createdAt = new Date();
    const staged: StagedEvent[] = events.map((envelope) => ({
      _id: envelope.id,
      // The JSON form is what gets published; storing it keeps BSON from turning `undefined` into null.
      envelope: JSON.parse(JSON.stringify(envelope)) as Envelope,
      aggregate: { collection, id },
      createdAt,
    }));
    try {
      await this.staging.insertMany(staged, { ordered: false });
    } catch (error) {
      // Staging again, the events still there are duplicates; the others were inserted all the same.
      if (!again || !onlyDuplicateKeys(error)) throw error;
    }
    return staged;
  }
}

function onlyDuplicateKeys(error: unknown): boolean {
  const { code, writeErrors } = error as { code?: unknown; writeErrors?: { code?: unknown }[] };
  if (Array.isArray(writeErrors) && writeErrors.length > 0) return writeErrors.every((e) => e.code === 11000);
  return code === 11000;
}
