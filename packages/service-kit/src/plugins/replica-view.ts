import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import { startReplicaView, type EnvelopeOf } from '@tmuxme/bus';
import type { EventContract } from '@tmuxme/events';

export interface ReplicaViewPluginOptions<C extends EventContract = EventContract> {
  /** The service's queue name; this replica's own queue is named after it. */
  queue: string;
  events: readonly C[];
  /** Reads the view's state from the database, once, before the service takes requests. */
  load(): Promise<void>;
  apply(envelope: EnvelopeOf<C>): void;
}

/**
 * State this replica keeps in memory, loaded at start and kept current by every replica's events
 * (see startReplicaView): lookups that FerretDB v1 could only answer with a scan read it instead.
 */
export const replicaViewPlugin = fp<ReplicaViewPluginOptions>(async (app, { queue, ...view }) => {
  const consumer = await startReplicaView({ bus: app.bus, queue: `${queue}.view.${randomUUID().slice(0, 8)}`, ...view });
  app.addHook('onClose', () => consumer.cancel());
}, { name: 'replica-view', dependencies: ['database', 'bus'] });
