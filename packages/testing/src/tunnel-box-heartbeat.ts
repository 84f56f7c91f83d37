import { connect } from 'amqplib';
import { createEnvelope, routingKeyFor, TunnelBoxHeartbeat, type EventData } from '@tmuxme/events';

export type TunnelBoxAnnouncement = Omit<EventData<typeof TunnelBoxHeartbeat>, 'at' | 'liveLeases' | 'draining'>
  & Partial<Pick<EventData<typeof TunnelBoxHeartbeat>, 'at' | 'liveLeases' | 'draining'>>;

/**
 * Publishes one TunnelBoxHeartbeat as a tunnel box's tunnel-sync would, for a sessions service that runs
 * without a tunnel-sync beside it (it leases only on boxes it has heard from). Returns the heartbeat's `at` (now, unless given).
 */
export async function announceTunnelBox(amqpUrl: string, exchange: string, box: TunnelBoxAnnouncement): Promise<string> {
  const at = box.at ?? new Date().toISOString();
  const envelope = createEnvelope(TunnelBoxHeartbeat, { liveLeases: 0, draining: false, ...box, at }, { producer: 'tunnel-sync' });
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    channel.publish(exchange, routingKeyFor(envelope), Buffer.from(JSON.stringify(envelope)), { persistent: true, messageId: envelope.id, contentType: 'application/json' });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
  return at;
}
