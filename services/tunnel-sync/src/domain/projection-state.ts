import type { AuthorizedKeysState, KeyEntry, LeaseEntry } from './render-authorized-keys.js';

/** One change to the projection; events and snapshots are both turned into these, and the log stores them. */
export type Change =
  | { op: 'key'; keyId: string; userId: string; key: string }
  | { op: 'key-removed'; keyId: string }
  | { op: 'lease'; leaseId: string; userId: string; port: number }
  | { op: 'lease-released'; leaseId: string }
  | { op: 'user-deleted'; userId: string };

/** The whole state as a checkpoint stores it. */
export interface StateDump {
  keys: [keyId: string, userId: string, key: string][];
  leases: [leaseId: string, userId: string, port: number][];
  removedKeys: string[];
  releasedLeases: string[];
  deletedUsers: string[];
}

export interface Snapshot {
  keys: KeyEntry[];
  leases: LeaseEntry[];
}

/**
 * What this box knows: every user's keys, its own live leases, and tombstones. Ids of removed keys,
 * released leases and deleted users are kept for good, so an event that arrives late (a PortLeased
 * after its PortReleased, a KeyAdded after its KeyRemoved) can never bring the thing back.
 */
export class ProjectionState implements AuthorizedKeysState {
  private readonly keyMap = new Map<string, KeyEntry>();
  private readonly leaseMap = new Map<string, LeaseEntry>();
  private readonly removedKeys = new Set<string>();
  private readonly releasedLeases = new Set<string>();
  private readonly deletedUsers = new Set<string>();

  get keys(): Iterable<KeyEntry> {
    return this.keyMap.values();
  }

  get leases(): Iterable<LeaseEntry> {
    return this.leaseMap.values();
  }

  get size() {
    return { keys: this.keyMap.size, leases: this.leaseMap.size };
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
        this.leaseMap.set(leaseId, { leaseId, userId, port });
        return true;
      }
      case 'key-removed':
        return tombstone(this.removedKeys, this.keyMap, change.keyId);
      case 'lease-released':
        return tombstone(this.releasedLeases, this.leaseMap, change.leaseId);
      case 'user-deleted': {
        if (this.deletedUsers.has(change.userId)) return false;
        this.deletedUsers.add(change.userId);
        for (const map of [this.keyMap, this.leaseMap]) {
          for (const [id, entry] of map) if (entry.userId === change.userId) map.delete(id);
        }
        return true;
      }
    }
  }

  /**
   * Makes this state the snapshot's, and returns the changes that took: what the snapshot lacks is
   * tombstoned, unless `keep` names it (an event added it while the snapshot was being read, so the
   * snapshot may predate it); tombstones and deleted users keep the snapshot from reviving anything.
   */
  replaceWith(snapshot: Snapshot, keep: ReadonlySet<string>): Change[] {
    const inKeys = new Set(snapshot.keys.map((k) => k.keyId));
    const inLeases = new Set(snapshot.leases.map((l) => l.leaseId));
    const changes: Change[] = [];
    for (const keyId of this.keyMap.keys()) {
      if (!inKeys.has(keyId) && !keep.has(keyId)) changes.push({ op: 'key-removed', keyId });
    }
    for (const leaseId of this.leaseMap.keys()) {
      if (!inLeases.has(leaseId) && !keep.has(leaseId)) changes.push({ op: 'lease-released', leaseId });
    }
    for (const { keyId, userId, key } of snapshot.keys) changes.push({ op: 'key', keyId, userId, key });
    for (const { leaseId, userId, port } of snapshot.leases) changes.push({ op: 'lease', leaseId, userId, port });
    return changes.filter((change) => this.apply(change));
  }

  dump(): StateDump {
    return {
      keys: [...this.keyMap.values()].map((k) => [k.keyId, k.userId, k.key]),
      leases: [...this.leaseMap.values()].map((l) => [l.leaseId, l.userId, l.port]),
      removedKeys: [...this.removedKeys],
      releasedLeases: [...this.releasedLeases],
      deletedUsers: [...this.deletedUsers],
    };
  }

  static restore(dump: StateDump): ProjectionState {
    const state = new ProjectionState();
    dump.removedKeys.forEach((id) => state.removedKeys.add(id));
    dump.releasedLeases.forEach((id) => state.releasedLeases.add(id));
    dump.deletedUsers.forEach((id) => state.deletedUsers.add(id));
    for (const [keyId, userId, key] of dump.keys) state.keyMap.set(keyId, { keyId, userId, key });
    for (const [leaseId, userId, port] of dump.leases) state.leaseMap.set(leaseId, { leaseId, userId, port });
    return state;
  }
}

function tombstone<T>(tombstones: Set<string>, live: Map<string, T>, id: string): boolean {
  if (tombstones.has(id)) return false;
  tombstones.add(id);
  live.delete(id);
  return true;
}
