import { describe, expect, it } from '@jest/globals';
import { ProjectionState, type Change } from './projection-state.js';

const key = (keyId: string, userId = 'u1'): Change => ({ op: 'key', keyId, userId, key: `ssh-ed25519 ${keyId}` });
const lease = (leaseId: string, userId = 'u1', port = 20001): Change => ({ op: 'lease', leaseId, userId, port });
const ids = (state: ProjectionState) => ({ keys: [...state.keys].map((k) => k.keyId).sort(), leases: [...state.leases].map((l) => l.leaseId).sort() });

function stateWith(...changes: Change[]) {
  const state = new ProjectionState();
  changes.forEach((change) => state.apply(change));
  return state;
}

describe('ProjectionState', () => {
  it('applies each change once', () => {
    const state = new ProjectionState();
    expect(state.apply(key('k1'))).toBe(true);
    expect(state.apply(key('k1'))).toBe(false);
    expect(state.apply(lease('l1'))).toBe(true);
    expect(state.apply(lease('l1'))).toBe(false);
    expect(ids(state)).toEqual({ keys: ['k1'], leases: ['l1'] });
  });

  it('never brings back a released lease, a removed key or a deleted user', () => {
    const state = stateWith(key('k1'), lease('l1'), key('k2', 'u2'), lease('l2', 'u2'));
    expect(state.apply({ op: 'lease-released', leaseId: 'l1' })).toBe(true);
    expect(state.apply({ op: 'key-removed', keyId: 'k1' })).toBe(true);
    expect(state.apply({ op: 'user-deleted', userId: 'u2' })).toBe(true);
    for (const late of [lease('l1'), key('k1'), key('k3', 'u2'), lease('l3', 'u2')]) expect(state.apply(late)).toBe(false);
    expect(ids(state)).toEqual({ keys: [], leases: [] });
  });

  it('keeps tombstones for things it never saw, so their late arrival is ignored too', () => {
    const state = new ProjectionState();
    expect(state.apply({ op: 'key-removed', keyId: 'k9' })).toBe(true);
    expect(state.apply({ op: 'lease-released', leaseId: 'l9' })).toBe(true);
    expect(state.apply({ op: 'key-removed', keyId: 'k9' })).toBe(false);
    expect(state.apply(key('k9'))).toBe(false);
    expect(state.apply(lease('l9'))).toBe(false);
  });

  it('takes a snapshot: tombstones what it lacks, adds what is new, and revives nothing', () => {
    const state = stateWith(key('gone'), key('stays'), lease('old-lease'), key('just-added'), { op: 'key-removed', keyId: 'removed' });
    const changes = state.replaceWith({
      keys: [{ keyId: 'stays', userId: 'u1', key: 'ssh-ed25519 stays' }, { keyId: 'new', userId: 'u1', key: 'ssh-ed25519 new' }, { keyId: 'removed', userId: 'u1', key: 'ssh-ed25519 removed' }],
      leases: [{ leaseId: 'new-lease', userId: 'u1', port: 20005 }],
    }, new Set(['just-added']));
    expect(ids(state)).toEqual({ keys: ['just-added', 'new', 'stays'], leases: ['new-lease'] });
    expect(changes.map((c) => c.op).sort()).toEqual(['key', 'key-removed', 'lease', 'lease-released']);
    expect(state.apply(key('gone'))).toBe(false);
    expect(state.apply(lease('old-lease'))).toBe(false);
  });

  it('round-trips through a dump, tombstones included', () => {
    const state = stateWith(key('k1'), lease('l1'), { op: 'key-removed', keyId: 'k0' }, { op: 'lease-released', leaseId: 'l0' }, { op: 'user-deleted', userId: 'gone' });
    const restored = ProjectionState.restore(JSON.parse(JSON.stringify(state.dump())));
    expect(restored.dump()).toEqual(state.dump());
    for (const late of [key('k0'), lease('l0'), key('k5', 'gone')]) expect(restored.apply(late)).toBe(false);
  });
});
