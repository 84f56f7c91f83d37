import { Schema, type Model } from 'mongoose';
import type { Envelope } from '@tmuxme/events';
import type { Bus } from './bus.js';
import { silentLogger, type BusLogger } from './logger.js';

/*
 * The transactional outbox without transactions. FerretDB v1 has none, and its findAndModify is a
 * read then a write, so an aggregate carries its pending events inside its own document: the state
 * change and its event are one single-document write, and neither exists without the other.
 */

const envelopeSchema = new Schema({
  id: { type: String, required: true },
  type: { type: String, required: true },
  version: { type: Number, required: true },
  // Kept as the envelope's own ISO string, so the relayed event is byte for byte what was written.
  occurredAt: { type: String, required: true },
  producer: { type: String, required: true },
  requestId: { type: String },
  data: { type: Schema.Types.Mixed },
}, { _id: false, id: false });

/** What `outboxPlugin` adds to a document, for services to add to their document types. */
export interface OutboxFields {
  outbox: Envelope[];
  /** Set instead of deleting, so the deletion can carry its event; the relay purges the document later. */
  deletedAt: Date | null;
}

/**
 * Adds `outbox` and `deletedAt` to an aggregate's schema. Write events with the change itself,
 * e.g. `updateOne({ _id }, { $set: {...}, $push: { outbox: envelope } })`, and read live documents
 * with `{ deletedAt: null }`.
 */
export function outboxPlugin(schema: Schema): void {
  schema.add({
    outbox: { type: [envelopeSchema], default: [] },
    deletedAt: { type: Date, default: null },
  });
}

/** Relayed models differ in their document types; the relay only touches the fields the plugin added. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OutboxModel = Model<any>;

export interface OutboxRelayOptions {
  bus: Bus;
  models: OutboxModel[];
  intervalMs?: number;
  /** Documents read per model and pass; a full batch makes the next pass follow at once. */
  batchSize?: number;
  logger?: BusLogger;
}

const pending = { 'outbox.0': { $exists: true } };
const purgeable = { deletedAt: { $ne: null }, 'outbox.0': { $exists: false } };

interface PendingDocument {
  _id: unknown;
  outbox: Envelope[];
}

/**
 * Publishes the events waiting in documents and removes each one once the broker confirmed it.
 *
 * Every replica of a service may run a relay. Two relays can then read the same document and both
 * publish its event before either removes it: delivery is at least once, and the consumers' inbox
 * (the envelope id as dedupe key) turns the duplicate into a no-op.
 */
export class OutboxRelay {
  private readonly bus: Bus;
  private readonly models: OutboxModel[];
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly logger: BusLogger;
  private interval: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private failing = false;

  constructor(options: OutboxRelayOptions) {
    this.bus = options.bus;
    this.models = options.models;
    this.intervalMs = options.intervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 100;
    this.logger = options.logger ?? silentLogger;
  }

  /** Relays now and then every interval, which picks up what was written while the broker was down. */
  start(): void {
    if (this.interval || this.stopped) return;
    this.interval = setInterval(() => this.nudge(), this.intervalMs);
    this.nudge();
  }

  /**
   * Asks for a pass soon. Call it right after writing an event so it goes out without waiting for
   * the interval; any number of nudges before the pass starts make one pass, and nudges during a
   * pass make exactly one more, since the running pass may have read before the write.
   */
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

  /** Stops relaying; resolves once the pass in flight has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    clearTimeout(this.soon);
    await this.running;
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
    try {
      for (const model of this.models) {
        if (await this.relay(model)) this.again = true;
        await model.deleteMany(purgeable);
      }
      if (this.failing) {
        this.failing = false;
        this.logger.info({}, 'outbox relay is publishing again');
      }
    } catch (error) {
      // The events stay in their documents, and the interval tries again; one line per outage is enough.
      if (!this.failing) {
        this.failing = true;
        this.logger.warn({ err: error }, 'outbox relay paused: events wait in their documents');
      }
    }
  }

  /** Returns whether the batch was full, i.e. more may be waiting. */
  private async relay(model: OutboxModel): Promise<boolean> {
    const documents = await model.find(pending).select({ outbox: 1 }).sort({ _id: 1 }).limit(this.batchSize)
      .lean<PendingDocument[]>();
    for (const document of documents) {
      if (this.stopped) return false;
      for (const entry of document.outbox) {
        await this.bus.publish(toEnvelope(entry));
        // Removes exactly this envelope: events leave from the head, and the guard on the head's id
        // makes the pop a no-op when another relay got there first. (FerretDB v1's $pull only removes
        // elements equal to the whole given value, so `$pull: { outbox: { id } }` would remove nothing.)
        // On FerretDB v1 an update is a read then a whole-document write, so another write to the same
        // document landing in between can be lost; MongoDB applies each update atomically.
        await model.updateOne({ _id: document._id, 'outbox.0.id': entry.id }, { $pop: { outbox: -1 } });
      }
    }
    return documents.length === this.batchSize;
  }
}

/** The events written but not yet published, summed over the models (the outbox backlog metric). */
export async function pendingEventCount(models: OutboxModel[]): Promise<number> {
  let total = 0;
  for (const model of models) {
    // FerretDB v1 lacks $size in $project, hence $unwind.
    const [row] = await model.aggregate<{ n: number }>([{ $match: pending }, { $unwind: '$outbox' }, { $count: 'n' }]);
    total += row?.n ?? 0;
  }
  return total;
}

/** Drops whatever mongoose or an older writer stored beside the envelope's own fields. */
function toEnvelope(entry: Envelope): Envelope {
  const { id, type, version, occurredAt, producer, requestId, data } = entry;
  return { id, type, version, occurredAt, producer, ...(requestId ? { requestId } : {}), data };
}
