import { connect, type Channel, type ChannelModel } from 'amqplib';

export interface SpiedEvent {
  id: string;
  type: string;
  producer: string;
  requestId?: string;
  data: Record<string, unknown>;
  routingKey: string;
}

/**
 * Listens on an exchange through a private queue of its own, as a real
 * consumer would, so tests can check what a service published.
 */
export class EventSpy {
  readonly events: SpiedEvent[] = [];
  private connection: ChannelModel | undefined;
  private channel: Channel | undefined;

  static async start(amqpUrl: string, exchange: string, pattern = '#'): Promise<EventSpy> {
    const spy = new EventSpy();
    spy.connection = await connect(amqpUrl);
    spy.channel = await spy.connection.createChannel();
    await spy.channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await spy.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await spy.channel.bindQueue(queue, exchange, pattern);
    await spy.channel.consume(queue, (message) => {
      if (!message) return;
      spy.events.push({ ...JSON.parse(message.content.toString()), routingKey: message.fields.routingKey });
    }, { noAck: true });
    return spy;
  }

  ofType(type: string): SpiedEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Waits until `count` events of the type have arrived (or fails after the timeout). */
  async waitFor(type: string, count = 1, timeoutMs = 10_000): Promise<SpiedEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.ofType(type).length < count) {
      if (Date.now() > deadline) {
        throw new Error(`expected ${count} ${type} event(s), saw ${this.ofType(type).length}: ${JSON.stringify(this.events.map((e) => e.type))}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.ofType(type);
  }

  clear(): void {
    this.events.length = 0;
  }

  async stop(): Promise<void> {
    await this.connection?.close();
  }
}
