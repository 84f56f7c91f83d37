import { connect, type Channel, type ChannelModel, type MessageProperties } from 'amqplib';
import { createEnvelope, KeyAdded, type Envelope } from '@tmuxme/events';
import { testAmqpUrl, testExchanges, uniqueName } from '@tmuxme/testing';
import type { BusLogger } from '../src/index.js';

export function keyAdded(username = 'alice'): Envelope {
  return createEnvelope(KeyAdded, {
    keyId: uniqueName('key'), userId: `u-${username}`, username, type: 'ssh-ed25519', key: 'AAAAC3Nza', fingerprint: 'SHA256:x',
  }, { producer: 'keys', requestId: 'req-1' });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type LoggedLine = { level: string; msg: string | undefined; obj: object };

/** A logger that keeps what it was told (with its children's bindings, as pino writes them), so tests can read it. */
export function recordingLogger(lines: LoggedLine[] = [], bindings: object = {}): BusLogger & { lines: LoggedLine[] } {
  const at = (level: string) => (obj: object, msg?: string): void => { lines.push({ level, msg, obj: { ...bindings, ...obj } }); };
  return {
    lines, info: at('info'), warn: at('warn'), error: at('error'), child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A direct broker connection for what a test checks or cleans up behind the bus's back. Each
 * operation gets a fresh channel, since a failed one (a missing queue) closes its channel.
 */
export class BrokerAdmin {
  readonly names = testExchanges();
  private readonly queues = new Set<string>();

  private constructor(private readonly connection: ChannelModel) {}

  static async open(): Promise<BrokerAdmin> {
    return new BrokerAdmin(await connect(testAmqpUrl()));
  }

  /** A queue name that `cleanUp` deletes, with its dead-letter queue. */
  queue(prefix: string): string {
    const name = uniqueName(prefix);
    this.queues.add(name).add(`${name}.dead`);
    return name;
  }

  async messageCount(queue: string): Promise<number> {
    return this.withChannel(async (channel) => (await channel.checkQueue(queue)).messageCount);
  }

  /** The messages waiting in a queue, taken off it. */
  async drain(queue: string): Promise<{ content: string; properties: MessageProperties; routingKey: string }[]> {
    return this.withChannel(async (channel) => {
      const taken = [];
      for (let message = await channel.get(queue, { noAck: true }); message; message = await channel.get(queue, { noAck: true })) {
        taken.push({ content: message.content.toString(), properties: message.properties, routingKey: message.fields.routingKey });
      }
      return taken;
    });
  }

  /** A classic queue bound to the bus's exchange, to look at messages exactly as they were published. */
  async tap(routingKey: string): Promise<string> {
    const queue = this.queue('tap');
    await this.withChannel(async (channel) => {
      await channel.assertQueue(queue, { durable: false });
      await channel.bindQueue(queue, this.names.exchange, routingKey);
    });
    return queue;
  }

  /** Declares an existing queue again: 'ok' when the arguments match, else the broker's complaint. */
  async redeclare(queue: string, args: Record<string, unknown>): Promise<string> {
    return this.withChannel(async (channel) => {
      try {
        await channel.assertQueue(queue, { durable: true, arguments: args });
        return 'ok';
      } catch (error) {
        return String(error);
      }
    });
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.withChannel((channel) => channel.deleteQueue(queue));
  }

  /** Publishes raw bytes, as a broken or foreign producer would. */
  async publishRaw(routingKey: string, content: string): Promise<void> {
    const channel = await this.connection.createConfirmChannel();
    channel.on('error', () => {});
    channel.publish(this.names.exchange, routingKey, Buffer.from(content), { persistent: true });
    await channel.waitForConfirms();
    await channel.close();
  }

  async cleanUp(): Promise<void> {
    await this.withChannel(async (channel) => {
      for (const queue of this.queues) await channel.deleteQueue(queue);
      await channel.deleteExchange(this.names.exchange);
      await channel.deleteExchange(this.names.deadLetterExchange);
    });
    await this.connection.close();
  }

  private async withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.connection.createChannel();
    channel.on('error', () => {});
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }
}
