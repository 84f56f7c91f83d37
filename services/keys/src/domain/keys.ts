import mongoose from 'mongoose';
import type { Principal } from '@tmuxme/auth';
import type { Outbox } from '@tmuxme/bus';
import type { Envelope, EventData, UserDeleted } from '@tmuxme/events';
import { badRequest, conflict, HttpError } from '@tmuxme/service-kit';
import { InvalidKeyError, parsePublicKey } from '@tmuxme/ssh-keys';
import type { KeyDocument } from '../model/key.js';
import { keyAdded, keyRemoved } from '../events/key-events.js';
import { isDuplicateKey } from '@tmuxme/service-kit';
import type { FingerprintHolder, KeyClaims } from './key-claims.js';
import type { KeyView } from './key-view.js';
import type { Users } from './users.js';

export interface KeysDeps {
  keys: mongoose.Model<KeyDocument>;
  users: Users;
  claims: KeyClaims;
  /** Told of this replica's own changes at once, so that it reads its own writes. */
  view: KeyView;
  maxKeysPerUser: number;
  /** Stages each event with the key document write that records it. */
  outbox: Outbox;
}

type NewKey = Pick<KeyDocument, '_id' | 'userId' | 'username' | 'title' | 'type' | 'blob' | 'fingerprint'>;

const titlePattern = /^[\x20-\x7e]{1,100}$/;

export const keyLine = (key: Pick<KeyDocument, 'type' | 'blob'>) => `${key.type} ${key.blob}`;

/**
 * A user's SSH keys. Every read, update and delete is by `_id` alone, the one filter FerretDB v1 answers
 * from an index (docs/architecture.md §8): a key's owner and liveness are checked after reading it, and
 * the user's keys are found through their slots.
 */
export class Keys {
  constructor(private readonly deps: KeysDeps) {}

  async add(owner: Principal, input: { title?: string; key: string }, requestId: string) {
    const parsed = this.parse(input.key);
    const title = (input.title ?? parsed.comment ?? `${parsed.type} key`).trim();
    if (!titlePattern.test(title)) {
      throw badRequest('INVALID_TITLE', 'A title has 1 to 100 plain characters (letters, digits, punctuation, spaces).', { field: 'title' });
    }
    await this.deps.users.assertLive(owner);

    const { claims, view, maxKeysPerUser } = this.deps;
    const _id = new mongoose.Types.ObjectId();
    const keyId = _id.toHexString();
    // The fingerprint first: a key added twice is then refused without touching the slots.
    const holder = await claims.takeFingerprint(parsed.fingerprint, keyId, owner.userId);
    if (holder) throw keyInUse(holder);
    const key = { _id, userId: owner.userId, username: owner.username, title, type: parsed.type, blob: parsed.blob, fingerprint: parsed.fingerprint };
    const event = keyAdded(key, requestId);
    let created: KeyDocument;
    let slotted = false;
    try {
      slotted = await claims.takeSlot(owner.userId, keyId);
      if (!slotted) throw badRequest('TOO_MANY_KEYS', `An account can hold ${maxKeysPerUser} keys; remove one first.`);
      created = await this.insert(key, event);
    } catch (error) {
      // Claims left behind are taken over once stale; releasing them now saves the user the wait.
      await Promise.all([
        claims.releaseFingerprint(parsed.fingerprint, keyId),
        slotted && claims.releaseSlots(owner.userId, [keyId]),
      ]).catch(() => {});
      throw error;
    }
    view.addKey(event.data);
    return describe(created);
  }

  private async insert(key: NewKey, event: ReturnType<typeof keyAdded>) {
    const { keys, outbox } = this.deps;
    try {
      return await outbox.write([event], { model: keys, id: key._id, inserted: true }, (eventIds) => keys.create({ ...key, eventIds }));
    } catch (error) {
      // The fingerprint was free, so the unique index still holds the key's removed twin until it is purged.
      if (isDuplicateKey(error)) throw keyInUse('removing');
      throw error;
    }
  }

  private parse(input: string) {
    try {
      return parsePublicKey(input);
    } catch (error) {
      if (error instanceof InvalidKeyError) throw badRequest('INVALID_KEY', error.message, { reason: error.reason, field: 'key' });
      throw error;
    }
  }

  async list(userId: string) {
    const slots = await this.deps.claims.slotsOf(userId);
    const found = await Promise.all(slots.map((slot) => this.deps.keys.findById(slot.keyId)));
    return found
      .filter((key): key is mongoose.HydratedDocument<KeyDocument> => key !== null && key.userId === userId && !key.deletedAt)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map(describe);
  }

  async remove(userId: string, keyId: string, requestId: string) {
    const key = mongoose.isValidObjectId(keyId) ? await this.deps.keys.findById(keyId) : null;
    if (!key || key.userId !== userId || key.deletedAt) throw new HttpError(404, 'KEY_NOT_FOUND', 'You have no key with that id.');
    await this.tombstone(key, requestId);
    // The slot names the id as stored, which the one asked for may differ from in case.
    await this.deps.claims.releaseSlots(userId, [key._id.toHexString()]);
  }

  /** Every key of a deleted account goes, each with its own KeyRemoved; the account stays deleted. */
  async removeAccount({ data: { userId, username }, requestId }: Envelope<EventData<typeof UserDeleted>>) {
    const { keys, users, claims, view } = this.deps;
    await users.markDeleted(userId, username);
    // The view also knows keys whose slot a crash or race lost: they must not outlive the account.
    const keyIds = [...new Set([...(await claims.slotsOf(userId)).map((slot) => slot.keyId), ...view.keyIdsOf(userId)])];
    view.deleteUser(userId);
    for (const key of await Promise.all(keyIds.map((id) => keys.findById(id)))) {
      if (key && key.userId === userId && !key.deletedAt) await this.tombstone(key, requestId);
    }
    await claims.releaseSlots(userId, keyIds);
  }

  private async tombstone(key: KeyDocument, requestId?: string) {
    const { keys, outbox, claims, view } = this.deps;
    const event = keyRemoved(key, requestId);
    await outbox.write([event], { model: keys, id: key._id }, (eventIds) => keys.updateOne(
      { _id: key._id },
      { $set: { deletedAt: new Date() }, $push: { eventIds: { $each: eventIds } } },
    ));
    view.removeKey(event.data.keyId);
    await claims.releaseFingerprint(key.fingerprint, event.data.keyId);
  }
}

function keyInUse(holder: FingerprintHolder) {
  if (holder === 'removing') return conflict('KEY_IN_USE', 'This key is being removed; try again in a few seconds.');
  return conflict('KEY_IN_USE', holder === 'yours'
    ? 'You have added this key already.'
    : 'This key is registered to another account; a key can belong to one account only.');
}

function describe(key: KeyDocument) {
  return { id: key._id.toString(), title: key.title, type: key.type, key: keyLine(key), fingerprint: key.fingerprint, createdAt: key.createdAt.toISOString() };
}
