import { randomUUID } from 'node:crypto';
import { Type, type Static, type TSchema } from 'typebox';

/** The wire form of every event on `tmuxme.events` (docs/architecture.md §4). */
export const EnvelopeSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  occurredAt: Type.String(),
  producer: Type.String(),
  /** The HTTP request that caused the event, so logs can be followed across services. */
  requestId: Type.Optional(Type.String()),
  data: Type.Unknown(),
});

export type Envelope<D = unknown> = Omit<Static<typeof EnvelopeSchema>, 'data'> & { data: D };

export interface EventContract<T extends string = string, S extends TSchema = TSchema> {
  type: T;
  version: number;
  /** `KeyAdded` travels as `key.added`. */
  routingKey: string;
  schema: S;
  /**
   * About one tunnel box: the event travels as `<routingKey>.<boxId>` (from its data's `boxId`), so a box's
   * queue binds to its own box's events alone and every other consumer to `<routingKey>.#`.
   */
  perBox: boolean;
}

export type EventData<C extends EventContract> = Static<C['schema']>;

export function routingKeyOf(type: string): string {
  return type.replace(/([a-z0-9])([A-Z])/g, '$1.$2').toLowerCase();
}

export function defineEvent<T extends string, S extends TSchema>(type: T, version: number, schema: S, { perBox = false } = {}): EventContract<T, S> {
  return { type, version, routingKey: routingKeyOf(type), schema, perBox };
}

export interface EnvelopeContext {
  producer: string;
  requestId?: string;
}

export function createEnvelope<C extends EventContract>(
  contract: C,
  data: EventData<C>,
  context: EnvelopeContext,
): Envelope<EventData<C>> {
  return {
    id: randomUUID(),
    type: contract.type,
    version: contract.version,
    occurredAt: new Date().toISOString(),
    producer: context.producer,
    ...(context.requestId ? { requestId: context.requestId } : {}),
    data,
  };
}
