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

/**
 * What is wrong with a box's port range, in words, or undefined: below 1024 the tunnel user could not
 * listen, and the box's own sshd port cannot be lent out. Sessions leaves such a box out of rotation,
 * and tunnel-sync refuses to start with it.
 */
export function portRangeFlaw({ tunnelPort, portRange: { from, to } }: { tunnelPort: number; portRange: { from: number; to: number } }): string | undefined {
  if (from < 1024 || to > 65535 || from > to) return `the port range ${from}-${to} must lie within 1024-65535, lowest first`;
  if (tunnelPort >= from && tunnelPort <= to) return `the port range ${from}-${to} holds the box's own sshd port ${tunnelPort}`;
  return undefined;
}
