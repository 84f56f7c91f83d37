import { describe, expect, it } from '@jest/globals';
import { createEnvelope, KeyAdded, parseEnvelope, allEvents, routingKeyOf, InvalidEventError } from './index.js';

describe('event envelope', () => {
  const data = { keyId: 'k1', userId: 'u1', username: 'alice', type: 'ssh-ed25519', key: 'AAAA', fingerprint: 'SHA256:x' };

  it('routes KeyAdded as key.added', () => {
    expect(KeyAdded.routingKey).toBe('key.added');
    expect(routingKeyOf('SessionDeclared')).toBe('session.declared');
  });

  it('round-trips through JSON and validates against the contract', () => {
    const envelope = createEnvelope(KeyAdded, data, { producer: 'keys', requestId: 'req-1' });
    const parsed = parseEnvelope(JSON.parse(JSON.stringify(envelope)), allEvents);
    expect(parsed).toEqual(envelope);
    expect(parsed.producer).toBe('keys');
    expect(parsed.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses data that breaks the contract', () => {
    const envelope = createEnvelope(KeyAdded, data, { producer: 'keys' });
    expect(() => parseEnvelope({ ...envelope, data: { keyId: 'k1' } }, allEvents)).toThrow(InvalidEventError);
    expect(() => parseEnvelope({ hello: 'world' }, allEvents)).toThrow('not an event envelope');
    expect(() => parseEnvelope({ ...envelope, type: 'Nope' }, allEvents)).toThrow('unexpected event type');
  });
});
