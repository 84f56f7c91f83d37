import fp from 'fastify-plugin';
import type mongoose from 'mongoose';
import { Outbox, type OutboxModel } from '@tmuxme/bus';

declare module 'fastify' {
  interface FastifyInstance {
    outbox: Outbox;
  }
}

export interface OutboxPluginOptions {
  /** The aggregates whose writes carry events. */
  models: (db: mongoose.Connection) => OutboxModel[];
  intervalMs?: number;
}

/** Stages events with their writes and relays them to the broker, including those written while it was down. */
export const outboxPlugin = fp<OutboxPluginOptions>(async (app, { models, intervalMs }) => {
  const outbox = new Outbox({ connection: app.db, bus: app.bus, models: models(app.db), intervalMs, logger: app.log });
  outbox.start();
  app.decorate('outbox', outbox);
  app.metrics.gauge('outbox_backlog', 'Events staged but not yet published', () => outbox.pendingCount());
  app.addHook('onClose', async () => {
    await outbox.stop();
  });
}, { name: 'outbox', dependencies: ['database', 'bus', 'health'] });
