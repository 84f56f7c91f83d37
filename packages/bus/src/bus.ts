import { connect, type ChannelModel, type ConfirmChannel, type RecoveringChannelModel } from 'amqplib';
import {
  createEnvelope, routingKeyFor, type Envelope, type EventContract, type EventData,
} from '@tmuxme/events';
import { QueueConsumer, type ConsumeOptions, type Consumer, type ManagedConsumer } from './consumer.js';
import { silentLogger, type BusLogger } from './logger.js';
import { declareExchanges, type ExchangeNames } from './topology.js';

export interface BusOptions {
  url: string;
  /** The service name: stamped on envelopes and shown as the connection's name in RabbitMQ. */
  producer: string;
  exchange?: string;
  deadLetterExchange?: string;
  logger?: BusLogger;
  /** First reconnect delay; it doubles on every failed attempt, up to 5 times this value, so a service is back within seconds of the broker. */
  reconnectDelayMs?: number;
  /** How long a publish may wait for the broker's confirm before it counts as failed. */
  publishTimeoutMs?: number;
  /** Told of every publish the broker confirmed, for metrics. */
  onPublished?: (type: string) => void;
}

/** What the broker says of a queue: messages ready for delivery, and consumers attached. */
export interface QueueStats {
  queue: string;
  messages: number;
  consumers: number;
}

/** The broker cannot take the message now; an outbox keeps it and tries again. */
export class BusUnavailableError extends Error {
  override name = 'BusUnavailableError';
}

type Settings = Required<BusOptions>;

/**
 * The service's one connection to RabbitMQ. It never gives up: the connection is recovered in the
 * background (amqplib's recovery), and every registered consumer is set up again on each reconnect.
 */
export class Bus {
  private current: ChannelModel | undefined;
  private publisher: Promise<ConfirmChannel> | undefined;
  private readonly consumers = new Set<ManagedConsumer>();
  private closing: Promise<void> | undefined;
  /** When the broker was last lost, so an outage is logged once and not on every retry. */
  private lostAt: number | undefined;

  private constructor(private readonly connection: RecoveringChannelModel, private readonly settings: Settings) {
    connection.on('connect', (model: ChannelModel) => this.onConnect(model));
    connection.on('disconnect', (error: Error) => this.onLost(error, 'lost the broker; reconnecting in the background'));
    connection.on('connect-failed', (error: Error) => this.onLost(error, 'cannot reach the broker; retrying in the background'));
    // Without these listeners an 'error' would crash the process; a 'disconnect' always follows it.
    connection.on('error', (error: Error) => this.logger.warn({ err: error }, 'broker connection error'));
    connection.on('handler-error', (error: Error, event: string) => this.logger.error({ err: error, event }, 'bus listener threw'));
    connection.on('blocked', (reason: string) => this.logger.warn({ reason }, 'the broker blocks publishing'));
    connection.on('unblocked', () => this.logger.info({}, 'the broker accepts publishing again'));
  }

  /** Resolves after the first connection attempt, whether or not the broker answered. */
  static async connect(options: BusOptions): Promise<Bus> {
    const settings: Settings = {
      exchange: 'tmuxme.events',
      deadLetterExchange: 'tmuxme.dlx',
      logger: silentLogger,
      reconnectDelayMs: 1000,
      publishTimeoutMs: 10_000,
      onPublished: () => {},
      ...definedOnly(options),
    };
    const connection = await connect(settings.url, {
      timeout: 10_000,
      clientProperties: { connection_name: settings.producer },
      recovery: {
        waitForConnect: false,
        initialDelay: settings.reconnectDelayMs,
        maxDelay: settings.reconnectDelayMs * 5,
        setup: (model: ChannelModel) => declareOnConnect(model, settings),
      },
    });
    const bus = new Bus(connection, settings);
    await new Promise<void>((resolve) => {
      const settled = (): void => {
        connection.off('connect', settled).off('connect-failed', settled);
        resolve();
      };
      connection.on('connect', settled).on('connect-failed', settled);
    });
    return bus;
  }

  get producer(): string {
    return this.settings.producer;
  }

  isConnected(): boolean {
    return this.current !== undefined && !this.closing;
  }

  /** A new envelope from this service, ready for a document's outbox or for `publish`. */
  envelope<C extends EventContract>(contract: C, data: EventData<C>, requestId?: string): Envelope<EventData<C>> {
    return createEnvelope(contract, data, { producer: this.settings.producer, ...(requestId ? { requestId } : {}) });
  }

  /** Resolves once the broker has the message on disk; rejects at once while disconnected. */
  async publish(envelope: Envelope): Promise<void> {
    const { publishTimeoutMs } = this.settings;
    let timer: NodeJS.Timeout | undefined;
    // Also bounds opening the channel: on a connection that died silently that waits for the heartbeat.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new BusUnavailableError(`the broker did not confirm ${envelope.type} ${envelope.id} within ${publishTimeoutMs} ms`));
      }, publishTimeoutMs);
    });
    try {
      await Promise.race([this.send(envelope), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Asks the broker about the queues, on a channel of their own, so a missing queue (which closes the
   * channel that asked) or a slow broker never touches a consumer. Leaves out what it could not learn
   * within `timeoutMs`, and everything while disconnected: for metrics, which must not fail a scrape.
   */
  async inspectQueues(queues: readonly string[], timeoutMs = 2000): Promise<QueueStats[]> {
    const model = this.current;
    if (!model || this.closing) return [];
    const found: QueueStats[] = [];
    const asking = (async () => {
      const channel = await model.createChannel();
      channel.on('error', () => {});
      try {
        for (const queue of queues) {
          const { messageCount, consumerCount } = await channel.checkQueue(queue);
          found.push({ queue, messages: messageCount, consumers: consumerCount });
        }
      } finally {
        await channel.close().catch(() => {});
      }
    })().catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([asking, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); })]);
    clearTimeout(timer);
    return [...found];
  }

  /**
   * Declares the queue and its dead-letter queue and starts handling messages. While the broker is
   * down this resolves at once and the consumer starts when the connection is back.
   */
  async consume<C extends EventContract>(options: ConsumeOptions<C>): Promise<Consumer> {
    if (this.closing) throw new BusUnavailableError('the bus is closed');
    const consumer = new QueueConsumer(options, {
      exchange: this.settings.exchange,
      deadLetterExchange: this.settings.deadLetterExchange,
      logger: this.logger,
      reconnectDelayMs: this.settings.reconnectDelayMs,
      currentConnection: () => (this.closing ? undefined : this.current),
      forget: (forgotten) => this.consumers.delete(forgotten),
    });
    this.consumers.add(consumer);
    const model = this.current;
    if (model) {
      try {
        await consumer.attach(model);
      } catch (error) {
        // When the connection went meanwhile the consumer starts on reconnect; otherwise its set-up is wrong.
        if (this.current !== model) return consumer;
        await consumer.cancel();
        throw error;
      }
    }
    return consumer;
  }

  /** Stops consuming, waits for the handlers in flight, then closes the connection for good. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.cancel()));
    const publisher = await this.publisher?.catch(() => undefined);
    if (publisher) {
      await publisher.waitForConfirms().catch(() => {});
      await publisher.close().catch(() => {});
    }
    await this.connection.close();
    this.current = undefined;
  }

  private get logger(): BusLogger {
    return this.settings.logger;
  }

  private async send(envelope: Envelope): Promise<void> {
    const channel = await this.publisherChannel();
    const { exchange, producer } = this.settings;
    await new Promise<void>((resolve, reject) => {
      const confirmed = (error: unknown): void => {
        if (error) {
          reject(new BusUnavailableError(`the broker refused ${envelope.type} ${envelope.id}: ${String(error)}`));
          return;
        }
        // Counted even when `publish` gave up waiting: the event did go out.
        this.settings.onPublished(envelope.type);
        resolve();
      };
      try {
        channel.publish(exchange, routingKeyFor(envelope), Buffer.from(JSON.stringify(envelope)), {
          persistent: true,
          messageId: envelope.id,
          type: envelope.type,
          contentType: 'application/json',
          appId: producer,
        }, confirmed);
      } catch (error) {
        // A channel that closed a moment ago throws instead of calling back.
        confirmed(error ?? new Error('publish failed'));
      }
    });
  }

  private onConnect(model: ChannelModel): void {
    this.current = model;
    if (this.lostAt !== undefined) {
      this.logger.info({ downForMs: Date.now() - this.lostAt }, 'reconnected to the broker');
      this.lostAt = undefined;
    }
    if (this.closing) return;
    for (const consumer of this.consumers) consumer.ensureAttached();
  }

  private onLost(error: Error, message: string): void {
    this.current = undefined;
    this.publisher = undefined;
    if (this.lostAt !== undefined || this.closing) return;
    this.lostAt = Date.now();
    this.logger.warn({ err: error }, message);
  }

  /** One confirm channel for all publishes, reopened lazily after it closes. */
  private publisherChannel(): Promise<ConfirmChannel> {
    const model = this.current;
    if (!model || this.closing) return Promise.reject(new BusUnavailableError('not connected to the broker'));
    if (!this.publisher) {
      const opening: Promise<ConfirmChannel> = model.createConfirmChannel().then(async (channel) => {
        // A channel error (say, a deleted exchange) rejects the pending confirms; the next publish reopens.
        channel.on('error', (error: Error) => this.logger.warn({ err: error }, 'publish channel failed'));
        channel.on('close', () => {
          if (this.publisher === opening) this.publisher = undefined;
        });
        await declareExchanges(channel, this.settings);
        return channel;
      });
      opening.catch(() => {
        if (this.publisher === opening) this.publisher = undefined;
      });
      this.publisher = opening;
    }
    return this.publisher;
  }
}

/** Runs on every (re)connection before the bus uses it; a failure makes amqplib retry the connection. */
async function declareOnConnect(model: ChannelModel, names: ExchangeNames): Promise<void> {
  const channel = await model.createChannel();
  // The failed declaration rejects on its own; an unheard channel 'error' would crash the process.
  channel.on('error', () => {});
  try {
    await declareExchanges(channel, names);
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Lets `{ exchange: undefined }` fall back to the default instead of overriding it. */
function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}
