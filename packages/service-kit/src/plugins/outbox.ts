import fp from 'fastify-plugin';
import type mongoose from 'mongoose';
import { OutboxRelay, pendingEventCount, type OutboxModel } from '@tmuxme/bus';

declare module 'fastify' {
  interface FastifyInstance {
    outbox: { nudge(): void };
  }
}

export interface OutboxOptions {
  /** The aggregates whose documents carry pending events. */
  models: (db: mongoose.Connection) => OutboxModel[];
  intervalMs?: number;
}

/** Relays events written with their documents to the broker, including those written while it was down. */
export const outboxRelayPlugin = fp<OutboxOptions>(async (app, { models, intervalMs }) => {
  const relayed = models(app.db);
  const relay = new OutboxRelay({ bus: app.bus, models: relayed, intervalMs, logger: app.log });
  relay.start();
  app.decorate('outbox', { nudge: () => relay.nudge() });
  app.metrics.gauge('outbox_backlog', 'Events written but not yet published', () => pendingEventCount(relayed));
  app.addHook('onClose', async () => {
    await relay.stop();
  });
}, { name: 'outbox-relay', dependencies: ['database', 'bus', 'health'] });
