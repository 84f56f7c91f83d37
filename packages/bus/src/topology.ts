import type { Channel } from 'amqplib';

export interface ExchangeNames {
  exchange: string;
  deadLetterExchange: string;
}

/**
 * Idempotent, so every channel that needs the exchanges declares them when it opens: a broker that
 * lost them (a reset node, an operator's mistake) gets them back without a restart of the service.
 */
export async function declareExchanges(channel: Channel, names: ExchangeNames): Promise<void> {
  await channel.assertExchange(names.exchange, 'topic', { durable: true });
  await channel.assertExchange(names.deadLetterExchange, 'topic', { durable: true });
}

export interface QueueTopology extends ExchangeNames {
  queue: string;
  routingKeys: readonly string[];
  maxDeliveries: number;
  /** A replica's own queue, deleted this long after its last consumer went (see ConsumeOptions.replicaQueue). */
  expiresAfterMs?: number;
}

/** Where a queue's failures end up, for people to look at; nothing consumes it. */
export function deadLetterQueueOf(queue: string): string {
  return `${queue}.dead`;
}

/**
 * A quorum queue bound by routing key, and its `<queue>.dead`. Dead letters leave with the queue's
 * own name as routing key, and `<queue>.dead` is bound to the shared dead-letter exchange by that key
 * alone, so each queue's failures land in its own dead queue and nowhere else.
 */
export async function declareQueue(channel: Channel, topology: QueueTopology): Promise<void> {
  const { queue, exchange, deadLetterExchange } = topology;
  await declareExchanges(channel, topology);
  const dead = deadLetterQueueOf(queue);
  const expiring = topology.expiresAfterMs === undefined ? {} : { 'x-expires': topology.expiresAfterMs };
  await channel.assertQueue(dead, { durable: true, arguments: expiring });
  await channel.bindQueue(dead, deadLetterExchange, queue);
  const deadLetters = { 'x-dead-letter-exchange': deadLetterExchange, 'x-dead-letter-routing-key': queue };
  // A quorum queue is replicated, which a queue that dies with its replica does not need; a classic
  // queue counts no deliveries, so the consumer falls back on the redelivered flag for it.
  await channel.assertQueue(queue, {
    durable: true,
    arguments: topology.expiresAfterMs === undefined
      // The limit counts returns, not deliveries: RabbitMQ delivers a message limit + 1 times.
      ? { 'x-queue-type': 'quorum', 'x-delivery-limit': topology.maxDeliveries - 1, ...deadLetters }
      : { ...expiring, ...deadLetters },
  });
  for (const routingKey of topology.routingKeys) {
    await channel.bindQueue(queue, exchange, routingKey);
  }
}
