import { Value } from 'typebox/value';
import { EnvelopeSchema, type Envelope, type EventContract, type EventData } from './envelope.js';

export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** Checks an incoming message against the envelope and, when known, the event's own schema. */
export function parseEnvelope(raw: unknown, contracts: readonly EventContract[]): Envelope {
  if (!Value.Check(EnvelopeSchema, raw)) {
    throw new InvalidEventError('message is not an event envelope');
  }
  const envelope = raw as Envelope;
  const contract = contracts.find((c) => c.type === envelope.type);
  if (!contract) {
    throw new InvalidEventError(`unexpected event type ${envelope.type}`);
  }
  if (envelope.version !== contract.version || !Value.Check(contract.schema, envelope.data)) {
    throw new InvalidEventError(`${envelope.type} v${envelope.version} does not match its contract`);
  }
  return envelope;
}

export function isEvent<C extends EventContract>(envelope: Envelope, contract: C): envelope is Envelope<EventData<C>> {
  return envelope.type === contract.type;
}
