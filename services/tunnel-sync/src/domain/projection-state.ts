import type { KeyEntry } from './key-file.js';
import type { LeaseEntry } from './render-authorized-keys.js';
import type { JoinAuthorizedKeysState, SessionEntry } from './render-join-authorized-keys.js';

/**
 * One change to the projection; events and snapshots are both turned into these, and the log stores
 * them. The log outlives releases: entries written before a field existed lack it (`private`).
 */
export type Change =
  | { op: 'key'; keyId: string; userId: string; key: string }
  | { op: 'key-removed'; keyId: string }
  | { op: 'lease'; leaseId: string; userId: string; port: number; private?: boolean }
  | { op: 'lease-released'; leaseId: string }
  | { op: 'session'; sessionId: string; hostUserId: string; port: number; guestUserIds: string[] }
  | { op: 'session-ended'; sessionId: string }
  | { op: 'user-deleted'; userId: string };

/** The whole state as a checkpoint stores it; what older releases wrote lacks the optional parts. */
export interface StateDump {
  keys: [keyId: string, userId: string, key: string][];
  leases: [leaseId: string, userId: string, port: number, isPrivate?: boolean][];
  sessions?: [sessionId: string, hostUserId: string, port: number, guestUserIds: string[]][];
  removedKeys: string[];
  releasedLeases: string[];
  endedSessions?: string[];
  deletedUsers: string[];
}

export interface Snapshot {
  keys: KeyEntry[];
  leases: LeaseEntry[];
  sessions: SessionEntry[];
}

/**
 * What this box knows: every user's keys, its own live leases and sessions, and tombstones. Ids of
 * removed keys, released leases, ended sessions and deleted users are kept for good, so an event that
 * arrives late (a PortLeased after its PortReleased, a SessionDeclared after its SessionEnded) can
 * never bring the thing back.
 */
export class ProjectionState implements JoinAuthorizedKeysState {
  private readonly keyMap = new Map<string, KeyEntry>();
  private readonly leaseMap = new Map<string, LeaseEntry>();
  private readonly sessionMap = new Map<string, SessionEntry>();
  private readonly removedKeys = new Set<string>();
  private readonly releasedLeases = new Set<string>();
  private readonly endedSessions = new Set<string>();
  private readonly deletedUsers = new Set<string>();

  get keys(): Iterable<KeyEntry> {
    return this.keyMap.values();
  }

  get leases(): Iterable<LeaseEntry> {
    return this.leaseMap.values();
  }

  get sessions(): Iterable<SessionEntry> {
    return this.sessionMap.values();
  }

  get size() {
    return { keys: this.keyMap.size, leases: this.leaseMap.size, sessions: this.sessionMap.size };
  }

  /** Applies a change; false when it changes nothing (a duplicate, or something already gone). */
  apply(change: Change): boolean {
    switch (change.op) {
      case 'key': {
        const { keyId, userId, key } = change;
        if (this.keyMap.has(keyId) || this.removedKeys.has(keyId) || this.deletedUsers.has(userId)) return false;
        this.keyMap.set(keyId, { keyId, userId, key });
        return true;
      }
      case 'lease': {
        const { leaseId, userId, port } = change;
        if (this.leaseMap.has(leaseId) || this.releasedLeases.has(leaseId) || this.deletedUsers.has(userId)) return false;
        this.leaseMap.set(leaseId, { leaseId, userId, port, private: change.private ?? false });
        return true;
      }
      case 'session': {
        const { sessionId, hostUserId, port, guestUserIds } = change;
        // A session that moves back to a box it left comes again with its new port.
        if (this.sessionMap.get(sessionId)?.port === port || this.endedSessions.has(sessionId) || this.deletedUsers.has(hostUserId)) return false;
        this.sessionMap.set(sessionId, { sessionId, hostUserId, port, guestUserIds: [...guestUserIds] });
        return true;
      }
      case 'key-removed':
        return tombstone(this.removedKeys, this.keyMap, change.keyId);
      case 'lease-released': {
        const lease = this.leaseMap.get(change.leaseId);
        // Its session ended, or moved to another box (and may come back later, so it gets no tombstone).
        for (const [id, session] of this.sessionMap) {
          if (session.hostUserId === lease?.userId && session.port === lease.port) this.sessionMap.delete(id);
        }
        return tombstone(this.releasedLeases, this.leaseMap, change.leaseId);
      }
      case 'session-ended':
        return tombstone(this.endedSessions, this.sessionMap, change.sessionId);
      case 'user-deleted':
        return this.deleteUser(change.userId);
    }
  }

  /**
   * Makes this state the snapshot's, and returns the changes that took: what the snapshot lacks is
   * tombstoned, unless `keep` names it (an event added it while the snapshot was being read, so the
   * snapshot may predate it); tombstones and deleted users keep the snapshot from reviving anything.
   */
  replaceWith(snapshot: Snapshot, keep: ReadonlySet<string>): Change[] {
    const missing = <T>(live: Map<string, T>, present: string[]) => {
      const inSnapshot = new Set(present);
      return [...live.keys()].filter((id) => !inSnapshot.has(id) && !keep.has(id));
    };
    const changes: Change[] = [
      ...missing(this.keyMap, snapshot.keys.map((k) => k.keyId)).map((keyId): Change => ({ op: 'key-removed', keyId })),
      ...missing(this.leaseMap, snapshot.leases.map((l) => l.leaseId)).map((leaseId): Change => ({ op: 'lease-released', leaseId })),
      ...missing(this.sessionMap, snapshot.sessions.map((s) => s.sessionId)).map((sessionId): Change => ({ op: 'session-ended', sessionId })),
      ...snapshot.keys.map(({ keyId, userId, key }): Change => ({ op: 'key', keyId, userId, key })),
      ...snapshot.leases.map(({ leaseId, userId, port, private: isPrivate }): Change => ({ op: 'lease', leaseId, userId, port, private: isPrivate })),
      ...snapshot.sessions.map(({ sessionId, hostUserId, port, guestUserIds }): Change => ({ op: 'session', sessionId, hostUserId, port, guestUserIds: [...guestUserIds] })),
    ];
    return changes.filter((change) => this.apply(change));
  }

  dump(): StateDump {
    return {
      keys: [...this.keyMap.values()].map((k) => [k.keyId, k.userId, k.key]),
      leases: [...this.leaseMap.values()].map((l) => [l.leaseId, l.userId, l.port, l.private]),
      sessions: [...this.sessionMap.values()].map((s) => [s.sessionId, s.hostUserId, s.port, [...s.guestUserIds]]),
      removedKeys: [...this.removedKeys],
      releasedLeases: [...this.releasedLeases],
      endedSessions: [...this.endedSessions],
      deletedUsers: [...this.deletedUsers],
    };
  }

  static restore(dump: StateDump): ProjectionState {
    const state = new ProjectionState();
    dump.removedKeys.forEach((id) => state.removedKeys.add(id));
    dump.releasedLeases.forEach((id) => state.releasedLeases.add(id));
    (dump.endedSessions ?? []).forEach((id) => state.endedSessions.add(id));
    dump.deletedUsers.forEach((id) => state.deletedUsers.add(id));
    for (const [keyId, userId, key] of dump.keys) state.keyMap.set(keyId, { keyId, userId, key });
    for (const [leaseId, userId, port, isPrivate = false] of dump.leases) state.leaseMap.set(leaseId, { leaseId, userId, port, private: isPrivate });
    for (const [sessionId, hostUserId, port, guestUserIds] of dump.sessions ?? []) {
      state.sessionMap.set(sessionId, { sessionId, hostUserId, port, guestUserIds });
    }
    return state;
  }

  /** A deleted user's keys and leases go, and the sessions they host; their guest places need no care, as they have no keys left. */
  private deleteUser(userId: string): boolean {
    if (this.deletedUsers.has(userId)) return false;
    this.deletedUsers.add(userId);
    for (const map of [this.keyMap, this.leaseMap]) {
      for (const [id, entry] of map) if (entry.userId === userId) map.delete(id);
    }
    for (const [id, session] of this.sessionMap) if (session.hostUserId === userId) this.sessionMap.delete(id);
    return true;
  }
}

function tombstone<T>(tombstones: Set<string>, live: Map<string, T>, id: string): boolean {
  if (tombstones.has(id)) return false;
  tombstones.add(id);
  live.delete(id);
  return true;
}
