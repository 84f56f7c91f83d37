import { connect, type ChannelModel, type Options } from 'amqplib';

/** One message as a queue holds it. */
export interface QueuedMessage {
  content: string;
  routingKey: string;
  messageId?: string;
  headers: Record<string, unknown>;
}

async function withConnection<T>(amqpUrl: string, work: (connection: ChannelModel) => Promise<T>): Promise<T> {
  const connection = await connect(amqpUrl);
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

/**
 * Publishes bytes as they are, which no service of ours would send (a malformed event, say): the broker
 * takes whatever a buggy or hostile producer gives it, and the consumers must live with that.
 */
export function publishRaw(amqpUrl: string, exchange: string, routingKey: string, content: string, properties: Options.Publish = {}): Promise<void> {
  return withConnection(amqpUrl, async (connection) => {
    const channel = await connection.createConfirmChannel();
    channel.publish(exchange, routingKey, Buffer.from(content), { persistent: true, contentType: 'application/json', ...properties });
    await channel.waitForConfirms();
  });
}

/** What a queue holds, left in it: unacknowledged, every message goes back when the channel closes. */
export function peekQueue(amqpUrl: string, queue: string): Promise<QueuedMessage[]> {
  return withConnection(amqpUrl, async (connection) => {
    const channel = await connection.createChannel();
    const messages: QueuedMessage[] = [];
    for (let message = await channel.get(queue); message; message = await channel.get(queue)) {
      messages.push({
        content: message.content.toString('utf8'),
        routingKey: message.fields.routingKey,
        ...(message.properties.messageId ? { messageId: String(message.properties.messageId) } : {}),
        headers: message.properties.headers ?? {},
      });
    }
    return messages;
  });
}
