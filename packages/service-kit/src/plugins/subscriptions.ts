import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { deadLetterQueueOf, mongooseInbox, type ConsumeOptions, type HandlerContext, type QueueStats } from '@tmuxme/bus';
import type { Envelope, EventContract, EventData } from '@tmuxme/events';

/** One event contract and what to do when it arrives; `context.log` is bound to the event and its request id. */
export interface Subscription<C extends EventContract = EventContract> {
  event: C;
  handle: (envelope: Envelope<EventData<C>>, context: HandlerContext) => Promise<void>;
}

export const on = <C extends EventContract>(event: C, handle: Subscription<C>['handle']): Subscription =>
  ({ event, handle } as unknown as Subscription);

export interface SubscriptionsOptions extends Pick<ConsumeOptions<EventContract>, 'prefetch' | 'maxDeliveries' | 'retryDelayMs' | 'boxId'> {
  /** The service's durable queue; replicas share it and compete for its messages. */
  queue: string;
  subscriptions: Subscription[];
  /** False for a service whose handlers are idempotent by themselves: the inbox costs a read and a write per event. */
  inbox?: boolean;
}

/** Consumes the service's queue, each envelope handled once (deduplicated by id in the service's database). */
export const subscriptionsPlugin = fp<SubscriptionsOptions>(async (app, { queue, subscriptions, prefetch, maxDeliveries, retryDelayMs, boxId, inbox = true }) => {
  const byType = new Map(subscriptions.map((s) => [s.event.type, s.handle]));
  const outcomes = app.metrics.counter(
    'events_consumed_total', 'Deliveries of consumed events by type and outcome (handled, duplicate, retried, dead-lettered, poison)', ['type', 'outcome'],
  );
  queueGauges(app, queue);
  await app.bus.consume({
    queue,
    prefetch,
    maxDeliveries,
    retryDelayMs,
    boxId,
    events: subscriptions.map((s) => s.event),
    inbox: inbox ? mongooseInbox(app.db) : undefined,
    onOutcome: (outcome, type) => outcomes.inc({ type, outcome }),
    handler: async (envelope, context) => {
      context.log.info({}, 'handling event');
      await byType.get(envelope.type)!(envelope, context);
    },
  });
}, { name: 'subscriptions', dependencies: ['health', 'database', 'bus'] });

/**
 * The consumer's lag as the broker sees it, asked on every scrape: messages waiting in the queue and in
 * its dead-letter queue (for someone to look at), and the consumers taking the queue. A queue the broker
 * could not tell about keeps its last value.
 */
function queueGauges(app: FastifyInstance, queue: string): void {
  let asking: Promise<QueueStats[]> | undefined;
  // Both gauges are collected in the same scrape: one question to the broker answers both.
  const inspect = () => (asking ??= app.bus.inspectQueues([queue, deadLetterQueueOf(queue)]).finally(() => { asking = undefined; }));
  const gauge = (name: string, help: string, value: (stats: QueueStats) => number | undefined) => new Gauge({
    name,
    help,
    labelNames: ['queue'],
    registers: [app.metrics.registry],
    async collect() {
      for (const stats of await inspect()) {
        const current = value(stats);
        if (current !== undefined) this.set({ queue: stats.queue }, current);
      }
    },
  });
  gauge('event_queue_messages', 'Messages ready in the queue this service consumes, and in its dead-letter queue', (stats) => stats.messages);
  // Nothing consumes a dead-letter queue: its 0 would only look like an alarm.
  gauge('event_queue_consumers', 'Consumers taking the queue this service consumes', (stats) => (stats.queue === queue ? stats.consumers : undefined));
}
