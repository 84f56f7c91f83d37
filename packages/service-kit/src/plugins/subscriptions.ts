import fp from 'fastify-plugin';
import { mongooseInbox, type ConsumeOptions } from '@tmuxme/bus';
import type { Envelope, EventContract, EventData } from '@tmuxme/events';

/** One event contract and what to do when it arrives. */
export interface Subscription<C extends EventContract = EventContract> {
  event: C;
  handle: (envelope: Envelope<EventData<C>>) => Promise<void>;
}

export const on = <C extends EventContract>(event: C, handle: Subscription<C>['handle']): Subscription =>
  ({ event, handle } as unknown as Subscription);

export interface SubscriptionsOptions extends Pick<ConsumeOptions<EventContract>, 'prefetch' | 'maxDeliveries' | 'retryDelayMs'> {
  /** The service's durable queue; replicas share it and compete for its messages. */
  queue: string;
  subscriptions: Subscription[];
  /** False for a service whose handlers are idempotent by themselves: the inbox costs a read and a write per event. */
  inbox?: boolean;
}

/** Consumes the service's queue, each envelope handled once (deduplicated by id in the service's database). */
export const subscriptionsPlugin = fp<SubscriptionsOptions>(async (app, { queue, subscriptions, prefetch, maxDeliveries, retryDelayMs, inbox = true }) => {
  const byType = new Map(subscriptions.map((s) => [s.event.type, s.handle]));
  const outcomes = app.hasDecorator('metrics')
    ? app.metrics.counter('events_consumed_total', 'Deliveries of consumed events by type and outcome (handled, duplicate, retried, dead-lettered, poison)', ['type', 'outcome'])
    : undefined;
  await app.bus.consume({
    queue,
    prefetch,
    maxDeliveries,
    retryDelayMs,
    events: subscriptions.map((s) => s.event),
    inbox: inbox ? mongooseInbox(app.db) : undefined,
    onOutcome: (outcome, type) => outcomes?.inc({ type, outcome }),
    handler: async (envelope) => {
      app.log.info({ eventId: envelope.id, type: envelope.type, requestId: envelope.requestId }, 'handling event');
      await byType.get(envelope.type)!(envelope);
    },
  });
}, { name: 'subscriptions', dependencies: ['database', 'bus'] });
