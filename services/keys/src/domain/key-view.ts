import type { EnvelopeOf } from '@tmuxme/bus';
import { KeyAdded, KeyRemoved, UserDeleted, UserRegistered, UserUpdated } from '@tmuxme/events';

/** Every event that changes which keys are live or which accounts exist: each replica applies every replica's. */
export const keyViewEvents = [KeyAdded, KeyRemoved, UserRegistered, UserUpdated, UserDeleted] as const;
export type KeyViewEvent = EnvelopeOf<(typeof keyViewEvents)[number]>;

/** A live key, as the snapshot hands it to tunnel boxes. */
export interface LiveKey {
  keyId: string;
  userId: string;
  username: string;
  type: string;
  /** The `type base64` line. */
  key: string;
  fingerprint: string;
}

export interface PublicKey {
  id: string;
  type: string;
  key: string;
  fingerprint: string;
}

export interface Page<T> {
  items: T[];
  /** The last item's id when the page is full (more may follow), or null at the end. */
  next: string | null;
}

/**
 * Every live key and every account, as this replica knows them from its start-up load and from every
 * replica's events. It answers what FerretDB v1 could only find by scanning (docs/architecture.md §8): a
 * user's public keys by name, and the snapshot in key id order. Events come at least once and in no set
 * order, so every change is idempotent, and what ended (a removed key, a deleted account) never comes back.
 */
export class KeyView {
  private readonly keys = new Map<string, LiveKey>();
  /** Live key ids in ascending order, so a snapshot page is a binary search and a slice. */
  private readonly ids: string[] = [];
  private readonly keysByUser = new Map<string, Set<string>>();
  private readonly removedKeys = new Set<string>();
  /** The live account holding each username; a deleted account's name may be taken again. */
  private readonly userByName = new Map<string, string>();
  private readonly nameOfUser = new Map<string, string>();
  private readonly deletedUsers = new Set<string>();

  apply(envelope: KeyViewEvent): void {
    switch (envelope.type) {
      case 'KeyAdded':
        this.addKey(envelope.data);
        return;
      case 'KeyRemoved':
        this.removeKey(envelope.data.keyId);
        return;
      case 'UserRegistered':
      case 'UserUpdated':
        this.recordUser(envelope.data.userId, envelope.data.username);
        return;
      case 'UserDeleted':
        this.deleteUser(envelope.data.userId);
    }
  }

  addKey(key: LiveKey): void {
    if (this.removedKeys.has(key.keyId) || this.deletedUsers.has(key.userId) || this.keys.has(key.keyId)) return;
    this.keys.set(key.keyId, { ...key });
    this.ids.splice(firstAfter(this.ids, key.keyId), 0, key.keyId);
    const owned = this.keysByUser.get(key.userId) ?? new Set<string>();
    this.keysByUser.set(key.userId, owned.add(key.keyId));
    // A key is only ever added to a live account, so its owner exists even before UserRegistered arrives;
    // the name a key was added under may be older than the one accounts told us since.
    if (!this.nameOfUser.has(key.userId)) this.recordUser(key.userId, key.username);
  }

  removeKey(keyId: string): void {
    this.removedKeys.add(keyId);
    const key = this.keys.get(keyId);
    if (!key) return;
    this.keys.delete(keyId);
    const at = firstAfter(this.ids, keyId) - 1;
    if (this.ids[at] === keyId) this.ids.splice(at, 1);
    const owned = this.keysByUser.get(key.userId);
    owned?.delete(keyId);
    if (owned?.size === 0) this.keysByUser.delete(key.userId);
  }

  recordUser(userId: string, username: string): void {
    if (this.deletedUsers.has(userId)) return;
    this.forgetName(userId);
    this.userByName.set(username, userId);
    this.nameOfUser.set(userId, username);
  }

  deleteUser(userId: string): void {
    this.deletedUsers.add(userId);
    this.forgetName(userId);
    for (const keyId of this.keyIdsOf(userId)) this.removeKey(keyId);
  }

  private forgetName(userId: string): void {
    const name = this.nameOfUser.get(userId);
    if (name !== undefined && this.userByName.get(name) === userId) this.userByName.delete(name);
    this.nameOfUser.delete(userId);
  }

  /** The ids of the user's live keys this replica knows of. */
  keyIdsOf(userId: string): string[] {
    return [...(this.keysByUser.get(userId) ?? [])];
  }

  /** The keys of the live account of that name, oldest first; undefined when there is no such account. */
  publicKeys(username: string): PublicKey[] | undefined {
    const userId = this.userByName.get(username);
    if (userId === undefined) return undefined;
    // Key ids are ObjectIds, which begin with their creation time.
    return this.keyIdsOf(userId).sort().map((id) => {
      const { type, key, fingerprint } = this.keys.get(id)!;
      return { id, type, key, fingerprint };
    });
  }

  /** Live keys with an id greater than `after`, in id order. */
  page(after: string | undefined, limit: number): Page<LiveKey> {
    const from = after === undefined ? 0 : firstAfter(this.ids, after);
    const items = this.ids.slice(from, from + limit).map((id) => ({ ...this.keys.get(id)! }));
    return { items, next: items.length === limit ? items.at(-1)!.keyId : null };
  }
}

/** The index of the first id greater than `id` in an ascending list. */
function firstAfter(ids: string[], id: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ids[middle]! <= id) low = middle + 1;
    else high = middle;
  }
  return low;
}
