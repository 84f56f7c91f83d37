import { allEvents } from './contracts.js';
import type { Envelope, EventContract } from './envelope.js';
import { routingKeyOf } from './envelope.js';

const perBoxTypes = new Set(allEvents.filter((contract) => contract.perBox).map((contract) => contract.type));

/** `port.leased.box-1` for an event about one box; `key.added` for the others (and for box events from before box ids). */
export function routingKeyFor(envelope: Pick<Envelope, 'type' | 'data'>): string {
  const base = routingKeyOf(envelope.type);
  const boxId = (envelope.data as { boxId?: unknown } | null)?.boxId;
  return perBoxTypes.has(envelope.type) && typeof boxId === 'string' ? `${base}.${boxId}` : base;
}

/** What a queue binds to receive `contract`: one box's events only when `boxId` is given, else every box's. */
export function bindingKeysFor(contract: EventContract, boxId?: string): string[] {
  if (!contract.perBox) return [contract.routingKey];
  return [boxId === undefined ? `${contract.routingKey}.#` : `${contract.routingKey}.${boxId}`];
}
