import type { EventContract } from '@tmuxme/events';
import type { Bus } from './bus.js';
import type { Consumer, EnvelopeOf } from './consumer.js';

export interface ReplicaViewOptions<C extends EventContract> {
  bus: Bus;
  /** Unique to this replica: each replica's view needs every event. */
  queue: string;
  events: readonly C[];
  /** Reads the state the events change from the database: once, at start, so a scan is fine here. */
  load(): Promise<void>;
  /**
   * Applies one event. Events come at least once, in no guaranteed order across producers, and the
   * replica may have applied its own writes already: `apply` must be idempotent and must not revive what ended.
   */
  apply(envelope: EnvelopeOf<C>): void;
}

/**
 * State a replica keeps in memory and every replica's events keep current, for lookups the database
 * could only answer with a scan on FerretDB v1 (docs/architecture.md §8). The queue is taken before the
 * state is loaded, and what arrives meanwhile is applied after it, so nothing between the two is lost.
 */
export async function startReplicaView<C extends EventContract>({ bus, queue, events, load, apply }: ReplicaViewOptions<C>): Promise<Consumer> {
  let waiting: EnvelopeOf<C>[] | undefined = [];
  const consumer = await bus.consume({
    queue, events, replicaQueue: true,
    handler: async (envelope) => {
      if (waiting) waiting.push(envelope);
      else apply(envelope);
    },
  });
  try {
    await load();
  } catch (error) {
    await consumer.cancel();
    throw error;
  }
  for (const envelope of waiting) apply(envelope);
  waiting = undefined;
  return consumer;
}
