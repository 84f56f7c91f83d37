import { describe, expect, it } from '@jest/globals';
import { ProjectionState, type Change } from './projection-state.js';

const key = (keyId: string, userId = 'u1'): Change => ({ op: 'key', keyId, userId, key: `ssh-ed25519 ${keyId}` });
const lease = (leaseId: string, userId = 'u1', port = 20001): Change => ({ op: 'lease', leaseId, userId, port });
const session = (sessionId: string, hostUserId = 'u1', port = 20001, guestUserIds = ['g1']): Change => ({ op: 'session', sessionId, hostUserId, port, guestUserIds });
const ids = (state: ProjectionState) => ({ keys: [...state.keys].map((k) => k.keyId).sort(), leases: [...state.leases].map((l) => l.leaseId).sort() });
const sessionIds = (state: ProjectionState) => [...state.sessions].map((s) => s.sessionId).sort();

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
      leases: [{ leaseId: 'new-lease', userId: 'u1', port: 20005, private: false }],
      sessions: [],
    }, new Set(['just-added']));
    expect(ids(state)).toEqual({ keys: ['just-added', 'new', 'stays'], leases: ['new-lease'] });
    expect(changes.map((c) => c.op).sort()).toEqual(['key', 'key-removed', 'lease', 'lease-released']);
    expect(state.apply(key('gone'))).toBe(false);
    expect(state.apply(lease('old-lease'))).toBe(false);
  });

  it('keeps a session until it ends, never brings it back, and drops the sessions of a deleted host', () => {
    const state = stateWith(session('s1'), session('s2', 'u2'), session('s3', 'u3'));
    expect(state.apply(session('s1'))).toBe(false);
    expect(state.apply({ op: 'session-ended', sessionId: 's1' })).toBe(true);
    expect(state.apply({ op: 'session-ended', sessionId: 'never-seen' })).toBe(true);
    expect(state.apply({ op: 'user-deleted', userId: 'u2' })).toBe(true);
    // A guest's deletion leaves the session: the guest's keys are what go.
    expect(state.apply({ op: 'user-deleted', userId: 'g1' })).toBe(true);
    for (const late of [session('s1'), session('never-seen'), session('s4', 'u2')]) expect(state.apply(late)).toBe(false);
    expect(sessionIds(state)).toEqual(['s3']);
  });

  it('takes sessions from a snapshot like leases, keeping those added while it was read', () => {
    const state = stateWith(session('gone'), session('stays'), session('just-declared'), { op: 'session-ended', sessionId: 'ended' });
    const changes = state.replaceWith({
      keys: [], leases: [],
      sessions: ['stays', 'new', 'ended'].map((sessionId) => ({ sessionId, hostUserId: 'u1', port: 20001, guestUserIds: ['g1'] })),
    }, new Set(['just-declared']));
    expect(sessionIds(state)).toEqual(['just-declared', 'new', 'stays']);
    expect(changes.map((c) => c.op).sort()).toEqual(['session', 'session-ended']);
    expect(state.apply(session('gone'))).toBe(false);
  });

  it('marks leases private only when they say so', () => {
    const state = stateWith(lease('public'), { op: 'lease', leaseId: 'hidden', userId: 'u1', port: 20002, private: true });
    expect(Object.fromEntries([...state.leases].map((l) => [l.leaseId, l.private]))).toEqual({ public: false, hidden: true });
  });

  it('round-trips through a dump, tombstones included', () => {
    const state = stateWith(
      key('k1'), lease('l1'), { op: 'lease', leaseId: 'lp', userId: 'u1', port: 20009, private: true }, session('s1'),
      { op: 'key-removed', keyId: 'k0' }, { op: 'lease-released', leaseId: 'l0' }, { op: 'session-ended', sessionId: 's0' }, { op: 'user-deleted', userId: 'gone' },
    );
    const restored = ProjectionState.restore(JSON.parse(JSON.stringify(state.dump())));
    expect(restored.dump()).toEqual(state.dump());
    expect([...restored.leases].find((l) => l.leaseId === 'lp')?.private).toBe(true);
    for (const late of [key('k0'), lease('l0'), session('s0'), key('k5', 'gone')]) expect(restored.apply(late)).toBe(false);
  });

  it('loads a dump written before private leases and sessions: leases public, no sessions', () => {
    const old = { keys: [['k1', 'u1', 'ssh-ed25519 k1']], leases: [['l1', 'u1', 20001]], removedKeys: ['k0'], releasedLeases: [], deletedUsers: [] };
    const restored = ProjectionState.restore(JSON.parse(JSON.stringify(old)));
    expect([...restored.leases]).toEqual([{ leaseId: 'l1', userId: 'u1', port: 20001, private: false }]);
    expect(restored.size).toEqual({ keys: 1, leases: 1, sessions: 0 });
    expect(restored.apply(session('s1'))).toBe(true);
    expect(restored.dump()).toMatchObject({ leases: [['l1', 'u1', 20001, false]], sessions: [['s1', 'u1', 20001, ['g1']]], endedSessions: [] });
  });
});
