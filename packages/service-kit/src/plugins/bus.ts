import fp from 'fastify-plugin';
import { Bus } from '@tmuxme/bus';

declare module 'fastify' {
  interface FastifyInstance {
    bus: Bus;
  }
}

export interface BusOptions {
  url: string;
  producer: string;
  exchange?: string;
  deadLetterExchange?: string;
}

/** The connection to RabbitMQ; it reconnects by itself, and readiness reports when it is down. */
export const busPlugin = fp<BusOptions>(async (app, options) => {
  const published = app.metrics.counter('events_published_total', 'Events the broker confirmed, by type (outbox relay and direct publishes)', ['type']);
  const bus = await Bus.connect({ ...options, logger: app.log, onPublished: (type) => published.inc({ type }) });
  app.decorate('bus', bus);
  app.readiness.add('broker', () => bus.isConnected());
  // Consumers drain before the database closes: onClose hooks run in reverse order of registration.
  app.addHook('onClose', async () => {
    await bus.close();
  });
}, { name: 'bus', dependencies: ['health'] });
