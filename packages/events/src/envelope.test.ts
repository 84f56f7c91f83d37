import { describe, expect, it } from '@jest/globals';
import {
  bindingKeysFor, createEnvelope, portRangeFlaw, KeyAdded, parseEnvelope, PortLeased, allEvents, routingKeyFor, routingKeyOf, InvalidEventError, TunnelBoxHeartbeat,
} from './index.js';

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

describe('routing by box', () => {
  const released = { leaseId: 'l1', userId: 'u1', username: 'alice', tunnelHost: 'box.example.org', port: 20001 };

  it('puts the box id of a box event at the end of its routing key', () => {
    expect(routingKeyFor({ type: 'PortReleased', data: { ...released, boxId: 'box-1' } })).toBe('port.released.box-1');
    expect(routingKeyFor({ type: 'PortReleased', data: released })).toBe('port.released');
    expect(routingKeyFor({ type: 'KeyAdded', data: { boxId: 'box-1' } })).toBe('key.added');
  });

  it("binds one box's queue to its own events, and other queues to every box's", () => {
    expect(bindingKeysFor(PortLeased, 'box-1')).toEqual(['port.leased.box-1']);
    expect(bindingKeysFor(PortLeased)).toEqual(['port.leased.#']);
    expect(bindingKeysFor(KeyAdded, 'box-1')).toEqual(['key.added']);
  });

  it('takes box ids that are words of a routing key, never wildcards', () => {
    const heartbeat = (boxId: string) => ({
      boxId, tunnelHost: 'box.example.org', tunnelPort: 22, hostKey: 'ssh-ed25519 AAAA', portRange: { from: 20000, to: 29999 }, liveLeases: 0, draining: false, at: new Date().toISOString(),
    });
    const check = (boxId: string) => () => parseEnvelope(JSON.parse(JSON.stringify(createEnvelope(TunnelBoxHeartbeat, heartbeat(boxId), { producer: 'tunnel-sync' }))), allEvents);
    expect(check('box-1.example.org')).not.toThrow();
    for (const bad of ['#', 'box.*', 'Box-1', '-box', 'box..', '']) expect(check(bad)).toThrow(InvalidEventError);
  });

  it("finds what is wrong with a box's port range", () => {
    expect(portRangeFlaw({ tunnelPort: 2222, portRange: { from: 20000, to: 29999 } })).toBeUndefined();
    expect(portRangeFlaw({ tunnelPort: 2222, portRange: { from: 80, to: 90 } })).toContain('within 1024-65535');
    expect(portRangeFlaw({ tunnelPort: 2222, portRange: { from: 30000, to: 20000 } })).toContain('lowest first');
    expect(portRangeFlaw({ tunnelPort: 20022, portRange: { from: 20000, to: 29999 } })).toContain("own sshd port 20022");
  });
});
