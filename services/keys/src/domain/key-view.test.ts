import { describe, expect, it } from '@jest/globals';
import { createEnvelope, KeyAdded, KeyRemoved, UserDeleted, UserRegistered, UserUpdated } from '@tmuxme/events';
import { KeyView, type KeyViewEvent, type LiveKey } from './key-view.js';

const producer = 'test';
const keyOf = (keyId: string, userId = 'u-alice', username = 'alice'): LiveKey =>
  ({ keyId, userId, username, type: 'ssh-ed25519', key: `ssh-ed25519 AAAA${keyId}`, fingerprint: `SHA256:${keyId}` });
const added = (key: LiveKey) => createEnvelope(KeyAdded, key, { producer }) as KeyViewEvent;
const removed = ({ keyId, userId, username, fingerprint }: LiveKey) => createEnvelope(KeyRemoved, { keyId, userId, username, fingerprint }, { producer }) as KeyViewEvent;
const registered = (userId: string, username: string) => createEnvelope(UserRegistered, { userId, username, email: `${username}@example.com` }, { producer }) as KeyViewEvent;
const renamed = (userId: string, username: string) => createEnvelope(UserUpdated, { userId, username, email: `${username}@example.com` }, { producer }) as KeyViewEvent;
const deleted = (userId: string, username: string) => createEnvelope(UserDeleted, { userId, username }, { producer }) as KeyViewEvent;

const id = (n: number) => n.toString(16).padStart(24, '0');

describe('KeyView', () => {
  it('answers public keys by name in id order, [] for an account without keys, and nothing for an unknown name', () => {
    const view = new KeyView();
    view.apply(registered('u-bob', 'bob'));
    for (const n of [3, 1, 2]) view.apply(added(keyOf(id(n))));
    expect(view.publicKeys('alice')).toEqual([1, 2, 3].map((n) => ({ id: id(n), type: 'ssh-ed25519', key: `ssh-ed25519 AAAA${id(n)}`, fingerprint: `SHA256:${id(n)}` })));
    expect(view.publicKeys('bob')).toEqual([]);
    expect(view.publicKeys('carol')).toBeUndefined();
  });

  it('applies an event twice as once, and never brings back a removed key', () => {
    const view = new KeyView();
    const key = keyOf(id(1));
    view.apply(added(key));
    view.apply(added(key));
    expect(view.page(undefined, 10).items).toEqual([key]);
    view.apply(removed(key));
    view.apply(removed(key));
    view.apply(added(key));
    expect(view.page(undefined, 10).items).toEqual([]);
    expect(view.publicKeys('alice')).toEqual([]);

    // Removed before its KeyAdded arrived, as events from two replicas may cross.
    const early = keyOf(id(2));
    view.apply(removed(early));
    view.apply(added(early));
    expect(view.keyIdsOf('u-alice')).toEqual([]);
  });

  it('drops a deleted account, its keys and its name for good, and lets the name be taken again', () => {
    const view = new KeyView();
    view.apply(added(keyOf(id(1))));
    view.apply(added(keyOf(id(2), 'u-bob', 'bob')));
    view.apply(deleted('u-alice', 'alice'));
    expect(view.publicKeys('alice')).toBeUndefined();
    expect(view.page(undefined, 10).items.map((k) => k.keyId)).toEqual([id(2)]);

    view.apply(registered('u-alice', 'alice'));
    view.apply(added(keyOf(id(3))));
    expect(view.publicKeys('alice')).toBeUndefined();

    view.apply(registered('u-alice-2', 'alice'));
    view.apply(added(keyOf(id(4), 'u-alice-2')));
    expect(view.publicKeys('alice')?.map((k) => k.id)).toEqual([id(4)]);
    // The old account's late deletion does not take the name from its new holder.
    view.apply(deleted('u-alice', 'alice'));
    expect(view.publicKeys('alice')?.map((k) => k.id)).toEqual([id(4)]);
  });

  it('follows a rename, and a key added under the old name does not undo it', () => {
    const view = new KeyView();
    view.apply(registered('u-bob', 'bob'));
    view.apply(renamed('u-bob', 'robert'));
    view.apply(added(keyOf(id(1), 'u-bob', 'bob')));
    expect(view.publicKeys('bob')).toBeUndefined();
    expect(view.publicKeys('robert')?.map((k) => k.id)).toEqual([id(1)]);
  });

  it('pages by key id: strictly after the cursor, next set on a full page, null at the end', () => {
    const view = new KeyView();
    for (const n of [5, 1, 4, 2, 3]) view.apply(added(keyOf(id(n))));
    view.apply(removed(keyOf(id(4))));
    expect(view.page(undefined, 2)).toEqual({ items: [keyOf(id(1)), keyOf(id(2))], next: id(2) });
    expect(view.page(id(2), 2)).toEqual({ items: [keyOf(id(3)), keyOf(id(5))], next: id(5) });
    expect(view.page(id(5), 2)).toEqual({ items: [], next: null });
    expect(view.page(id(3), 5)).toEqual({ items: [keyOf(id(5))], next: null });
    // A cursor need not be a live key: the one it named may have gone meanwhile.
    expect(view.page(id(4), 5).items.map((k) => k.keyId)).toEqual([id(5)]);
  });
});
