import fp from 'fastify-plugin';
import { mongooseInbox } from '@tmuxme/bus';
import type { Envelope, EventContract, EventData } from '@tmuxme/events';

/** One event contract and what to do when it arrives. */
export interface Subscription<C extends EventContract = EventContract> {
  event: C;
  handle: (envelope: Envelope<EventData<C>>) => Promise<void>;
}

export const on = <C extends EventContract>(event: C, handle: Subscription<C>['handle']): Subscription =>
  ({ event, handle } as unknown as Subscription);

export interface SubscriptionsOptions {
  /** The service's durable queue; replicas share it and compete for its messages. */
  queue: string;
  subscriptions: Subscription[];
}

/** Consumes the service's queue, each envelope handled once (deduplicated by id in the service's database). */
export const subscriptionsPlugin = fp<SubscriptionsOptions>(async (app, { queue, subscriptions }) => {
  const byType = new Map(subscriptions.map((s) => [s.event.type, s.handle]));
  await app.bus.consume({
    queue,
    events: subscriptions.map((s) => s.event),
    inbox: mongooseInbox(app.db),
    handler: async (envelope) => {
      app.log.info({ eventId: envelope.id, type: envelope.type, requestId: envelope.requestId }, 'handling event');
      await byType.get(envelope.type)!(envelope);
    },
  });
}, { name: 'subscriptions', dependencies: ['database', 'bus'] });
