import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { bindingKeysFor, parseEnvelope, type Envelope, type EventContract, type EventData } from '@tmuxme/events';
import type { Inbox } from './inbox.js';
import type { BusLogger } from './logger.js';
import { declareQueue } from './topology.js';

/** An envelope narrowed to one of the consumed contracts, so a handler can switch on `type`. */
export type EnvelopeOf<C extends EventContract> = C extends EventContract
  ? Omit<Envelope<EventData<C>>, 'type'> & { type: C['type'] }
  : never;

/** What a handler gets beside its envelope. */
export interface HandlerContext {
  /**
   * The consumer's logger bound to the event's `requestId`, `eventId` and `type`: the lines a handler
   * writes here join those of the HTTP request that caused the event, and the consumer's own retry lines.
   */
  log: BusLogger;
}

export interface ConsumeOptions<C extends EventContract> {
  /** Replicas of one service share a queue (competing consumers); a box that needs every event has its own. */
  queue: string;
  events: readonly C[];
  /** A tunnel box's consumer: of the events about one box (`perBox`), only this box's reach the queue. */
  boxId?: string;
  /**
   * The queue is this replica's alone (its name must be unique to it), for state every replica keeps in
   * memory: each replica gets every event. It outlives a dropped connection and is deleted a minute
   * after its replica has gone.
   */
  replicaQueue?: boolean;
  handler: (envelope: EnvelopeOf<C>, context: HandlerContext) => Promise<void>;
  /** Unacknowledged messages in flight, which is also how many handlers run at once (1 keeps order). */
  prefetch?: number;
  /** Deliveries of one message, the first included, before the broker moves it to `<queue>.dead`. */
  maxDeliveries?: number;
  /** Delay before a failed message goes back to the queue; doubles with every delivery. */
  retryDelayMs?: number;
  inbox?: Inbox;
  /** Told how each delivery ended, for metrics: `type` is `unknown` for a message that is not an envelope. */
  onOutcome?: (outcome: ConsumeOutcome, type: string) => void;
}

/** handled; a duplicate the inbox skipped; failed and requeued; failed for the last time; not an envelope at all. */
export type ConsumeOutcome = 'handled' | 'duplicate' | 'retried' | 'dead-lettered' | 'poison';

export interface Consumer {
  readonly queue: string;
  /** Stops taking messages, lets the handlers in flight finish, then releases the channel. */
  cancel(): Promise<void>;
}

/** A consumer as the bus that owns it sees it. */
export interface ManagedConsumer extends Consumer {
  /** Sets the consumer up on the current connection unless it already runs there; failures retry later. */
  ensureAttached(): void;
}

/** What a consumer needs from the bus that owns it. */
export interface ConsumerHost {
  exchange: string;
  deadLetterExchange: string;
  logger: BusLogger;
  reconnectDelayMs: number;
  currentConnection(): ChannelModel | undefined;
  forget(consumer: ManagedConsumer): void;
}

const maxRetryDelayMs = 30_000;
const replicaQueueExpiryMs = 60_000;

export class QueueConsumer<C extends EventContract> implements ManagedConsumer {
  readonly queue: string;
  private readonly prefetch: number;
  private readonly maxDeliveries: number;
  private readonly retryDelayMs: number;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private attaching: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set-up failures in a row; a lasting one (say, a queue declared elsewhere with other arguments) backs off. */
  private failedAttempts = 0;
  private cancelling: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly handling = new Map<string, Promise<void>>();
  /** Cuts retry back-offs short when the consumer stops, so a drain never waits on a sleep. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: ConsumeOptions<C>, private readonly host: ConsumerHost) {
    this.queue = options.queue;
    this.prefetch = options.prefetch ?? 10;
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    if (!Number.isInteger(this.maxDeliveries) || this.maxDeliveries < 1) {
      throw new RangeError(`maxDeliveries must be a positive integer, got ${this.maxDeliveries}`);
    }
  }

  ensureAttached(): void {
    const connection = this.host.currentConnection();
    if (!connection || this.channel || this.attaching || this.cancelling) return;
    this.attach(connection).then(() => { this.failedAttempts = 0; }, (error: unknown) => {
      this.failedAttempts += 1;
      this.host.logger.error({ err: error, queue: this.queue, attempt: this.failedAttempts }, 'consumer could not be set up; retrying');
      this.scheduleRetry();
    });
  }

  attach(connection: ChannelModel): Promise<void> {
    this.attaching = this.open(connection).finally(() => { this.attaching = undefined; });
    return this.attaching;
  }

  cancel(): Promise<void> {
    this.cancelling ??= this.stop();
    return this.cancelling;
  }

  private async open(connection: ChannelModel): Promise<void> {
    const channel = await connection.createChannel();
    // A channel error is always followed by 'close', which is where recovery happens.
    channel.on('error', (error: Error) => this.host.logger.warn({ err: error, queue: this.queue }, 'consumer channel failed'));
    channel.on('close', () => this.onChannelClosed(channel));
    try {
      await declareQueue(channel, {
        queue: this.queue,
        exchange: this.host.exchange,
        deadLetterExchange: this.host.deadLetterExchange,
        routingKeys: this.options.events.flatMap((contract) => bindingKeysFor(contract, this.options.boxId)),
        maxDeliveries: this.maxDeliveries,
        ...(this.options.replicaQueue ? { expiresAfterMs: replicaQueueExpiryMs } : {}),
      });
      await channel.prefetch(this.prefetch);
      const { consumerTag } = await channel.consume(this.queue, (message) => this.onMessage(channel, message));
      this.channel = channel;
      this.consumerTag = consumerTag;
    } catch (error) {
      await channel.close().catch(() => {});
      throw error;
    }
  }

  private onChannelClosed(channel: Channel): void {
    if (this.channel !== channel) return;
    this.channel = undefined;
    this.consumerTag = undefined;
    // When the whole connection went, the bus re-attaches on reconnect; this covers a lone channel failure.
    if (!this.cancelling) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.cancelling) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.ensureAttached();
    }, Math.min(this.host.reconnectDelayMs * 2 ** this.failedAttempts, this.host.reconnectDelayMs * 30));
  }

  private onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (!message) {
      // The broker cancelled us (queue deleted, node gone): reopening re-declares the queue.
      this.host.logger.warn({ queue: this.queue }, 'the broker cancelled the consumer');
      channel.close().catch(() => {});
      return;
    }
    const work: Promise<void> = this.process(channel, message)
      .catch((error: unknown) => this.host.logger.error({ err: error, queue: this.queue }, 'message processing failed'))
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  private async process(channel: Channel, message: ConsumeMessage): Promise<void> {
    let envelope: EnvelopeOf<C>;
    try {
      envelope = parseEnvelope(JSON.parse(message.content.toString('utf8')), this.options.events) as unknown as EnvelopeOf<C>;
    } catch (error) {
      // Retrying cannot fix a malformed message, so it goes straight to the dead queue.
      this.host.logger.error({
        err: error, queue: this.queue, messageId: message.properties.messageId, routingKey: message.fields.routingKey,
      }, 'poison message dead-lettered');
      settle(() => channel.reject(message, false));
      this.options.onOutcome?.('poison', 'unknown');
      return;
    }
    // Two copies of one event (two relays published it) often arrive together; the second waits for
    // the first, so the inbox sees the first one's record instead of both running the handler.
    const earlier = this.handling.get(envelope.id);
    const handled = (async () => {
      await earlier;
      await this.handle(channel, message, envelope);
    })();
    this.handling.set(envelope.id, handled);
    await handled;
    if (this.handling.get(envelope.id) === handled) this.handling.delete(envelope.id);
  }

  /** Never rejects: every outcome ends in an ack or a nack. */
  private async handle(channel: Channel, message: ConsumeMessage, envelope: EnvelopeOf<C>): Promise<void> {
    const { inbox } = this.options;
    const log = this.host.logger.child({
      ...(envelope.requestId ? { requestId: envelope.requestId } : {}), eventId: envelope.id, type: envelope.type,
    });
    try {
      if (inbox && await inbox.has(envelope.id)) {
        settle(() => channel.ack(message));
        this.options.onOutcome?.('duplicate', envelope.type);
        return;
      }
      await this.options.handler(envelope, { log });
      await inbox?.record(envelope.id, envelope.type);
      settle(() => channel.ack(message));
      this.options.onOutcome?.('handled', envelope.type);
    } catch (error) {
      await this.retryLater(channel, message, envelope.type, error, log);
    }
  }

  private async retryLater(channel: Channel, message: ConsumeMessage, type: string, error: unknown, log: BusLogger): Promise<void> {
    const delivery = deliveriesSoFar(message) + 1;
    const last = delivery >= this.maxDeliveries;
    log.warn(
      { err: error, queue: this.queue, delivery, maxDeliveries: this.maxDeliveries },
      last ? 'event handler failed for the last time; dead-lettering' : 'event handler failed; will retry',
    );
    // Holding the message before requeueing keeps a failing handler from spinning through its deliveries.
    if (!last) await sleep(Math.min(this.retryDelayMs * 2 ** (delivery - 1), maxRetryDelayMs), this.stopping.signal);
    settle(() => channel.nack(message, false, true));
    this.options.onOutcome?.(last ? 'dead-lettered' : 'retried', type);
  }

  private async stop(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.host.forget(this);
    await this.attaching?.catch(() => {});
    const channel = this.channel;
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => {});
    this.stopping.abort();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (channel) await channel.close().catch(() => {});
  }
}

/** Quorum queues count earlier deliveries in `x-delivery-count`; it is absent on the first one. */
function deliveriesSoFar(message: ConsumeMessage): number {
  const count: unknown = message.properties.headers?.['x-delivery-count'];
  if (typeof count === 'number') return count;
  return message.fields.redelivered ? 1 : 0;
}

/**
 * Acks on a channel that died meanwhile throw; the broker then redelivers the message
 * on its own, which the inbox absorbs.
 */
function settle(action: () => void): void {
  try {
    action();
  } catch {
    // nothing to do: see above
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
