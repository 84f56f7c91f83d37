import mongoose from 'mongoose';
import type { Principal } from '@tmuxme/auth';
import type { Outbox } from '@tmuxme/bus';
import { badRequest, conflict, HttpError, notFound, unauthorized } from '@tmuxme/service-kit';
import type { KeyDocument } from '../model/key.js';
import type { UserDocument } from '../model/user.js';
import { keyAdded, keyRemoved } from '../events/key-events.js';
import { InvalidKeyError, parsePublicKey } from '@tmuxme/ssh-keys';
import { PublicKeysCache } from './public-keys-cache.js';

export interface KeysDeps {
  keys: mongoose.Model<KeyDocument>;
  users: mongoose.Model<UserDocument>;
  maxKeysPerUser: number;
  /** Stages each event with the key document write that records it. */
  outbox: Outbox;
  /** How long a public key list may be served from memory (0 turns the cache off). */
  publicKeysTtlMs: number;
}

export interface PublicKey {
  id: string;
  type: string;
  key: string;
  fingerprint: string;
}

const live = { deletedAt: null };
const titlePattern = /^[\x20-\x7e]{1,100}$/;

export const keyLine = (key: Pick<KeyDocument, 'type' | 'blob'>) => `${key.type} ${key.blob}`;

export class Keys {
  private readonly cache: PublicKeysCache<PublicKey[]>;

  constructor(private readonly deps: KeysDeps) {
    this.cache = new PublicKeysCache(deps.publicKeysTtlMs);
  }

  async add(owner: Principal, input: { title?: string; key: string }, requestId: string) {
    const parsed = this.parse(input.key);
    const title = (input.title ?? parsed.comment ?? `${parsed.type} key`).trim();
    if (!titlePattern.test(title)) {
      throw badRequest('INVALID_TITLE', 'A title has 1 to 100 plain characters (letters, digits, punctuation, spaces).', { field: 'title' });
    }
    await this.assertAccountLive(owner);
    if (await this.deps.keys.countDocuments({ userId: owner.userId, ...live }) >= this.deps.maxKeysPerUser) {
      throw badRequest('TOO_MANY_KEYS', `An account can hold ${this.deps.maxKeysPerUser} keys; remove one first.`);
    }
    const existing = await this.deps.keys.findOne({ fingerprint: parsed.fingerprint }, { userId: 1, deletedAt: 1 }).lean();
    if (existing) throw this.keyInUse(existing.userId === owner.userId, Boolean(existing.deletedAt));

    const _id = new mongoose.Types.ObjectId();
    const key = { _id, userId: owner.userId, username: owner.username, title, type: parsed.type, blob: parsed.blob, fingerprint: parsed.fingerprint };
    const { keys, outbox } = this.deps;
    try {
      await outbox.write([keyAdded(key, requestId)], { model: keys, id: _id }, (eventIds) => keys.create({ ...key, eventIds }));
    } catch (error) {
      if ((error as { code?: number }).code === 11000) throw this.keyInUse(false, false);
      throw error;
    }
    this.cache.invalidate(owner.username);
    return this.view(await this.deps.keys.findById(_id).orFail());
  }

  private parse(input: string) {
    try {
      return parsePublicKey(input);
    } catch (error) {
      if (error instanceof InvalidKeyError) throw badRequest('INVALID_KEY', error.message, { reason: error.reason, field: 'key' });
      throw error;
    }
  }

  private keyInUse(own: boolean, beingRemoved: boolean) {
    if (beingRemoved) return conflict('KEY_IN_USE', 'This key is being removed; try again in a few seconds.');
    return conflict('KEY_IN_USE', own
      ? 'You have added this key already.'
      : 'This key is registered to another account; a key can belong to one account only.');
  }

  /** The JWT proves the account was registered even before UserRegistered reached us; a deletion is final. */
  private async assertAccountLive(owner: Principal) {
    const user = await this.deps.users.findById(owner.userId);
    if (user?.deleted) throw unauthorized('ACCOUNT_GONE', 'This account no longer exists.');
    if (!user) await this.recordUser(owner.userId, owner.username);
  }

  async list(userId: string) {
    const keys = await this.deps.keys.find({ userId, ...live }).sort({ createdAt: 1 });
    return keys.map((k) => this.view(k));
  }

  async remove(userId: string, keyId: string, requestId: string) {
    const key = mongoose.isValidObjectId(keyId) ? await this.deps.keys.findOne({ _id: keyId, userId, ...live }) : null;
    if (!key) throw new HttpError(404, 'KEY_NOT_FOUND', 'You have no key with that id.');
    await this.tombstone(key, requestId);
  }

  /** What anyone may read: the keys of a live account, for authorized_keys files. */
  publicKeys(username: string): Promise<PublicKey[]> {
    return this.cache.get(username, () => this.loadPublicKeys(username));
  }

  private async loadPublicKeys(username: string) {
    const keys = await this.deps.keys.find({ username, ...live }, { type: 1, blob: 1, fingerprint: 1 }).sort({ createdAt: 1 }).lean();
    if (keys.length === 0 && !(await this.deps.users.exists({ username, deleted: false }))) {
      throw notFound('USER_NOT_FOUND', `There is no user called "${username}".`);
    }
    return keys.map((k) => ({ id: k._id.toString(), type: k.type, key: keyLine(k), fingerprint: k.fingerprint }));
  }

  /** One page of every live key, in id order; `next` is the cursor of the following page. */
  /** Every live key, read in one pass: each query is a full scan on FerretDB, so one is cheapest. */
  async *snapshot() {
    const all = this.deps.keys.find(live, { userId: 1, username: 1, type: 1, blob: 1, fingerprint: 1 }).lean().cursor({ batchSize: 5000 });
    for await (const k of all) {
      yield { keyId: k._id.toString(), userId: k.userId, username: k.username, type: k.type, key: keyLine(k), fingerprint: k.fingerprint };
    }
  }

  async recordUser(userId: string, username: string) {
    await this.deps.users.updateOne({ _id: userId, deleted: false }, { $set: { username } }, { upsert: true }).catch((error) => {
      // A tombstone for this id exists: the account was deleted, and stays so.
      if ((error as { code?: number }).code !== 11000) throw error;
    });
  }

  /** Every key of a deleted account goes, each with its own KeyRemoved. */
  async removeAccount(userId: string, username: string, requestId?: string) {
    await this.deps.users.updateOne({ _id: userId }, { $set: { username, deleted: true } }, { upsert: true });
    this.cache.invalidate(username);
    for (const key of await this.deps.keys.find({ userId, ...live })) await this.tombstone(key, requestId);
  }

  private async tombstone(key: KeyDocument, requestId?: string) {
    const { keys, outbox } = this.deps;
    await outbox.write([keyRemoved(key, requestId)], { model: keys, id: key._id }, (eventIds) => keys.updateOne(
      { _id: key._id, ...live },
      { $set: { deletedAt: new Date() }, $push: { eventIds: { $each: eventIds } } },
    ));
    this.cache.invalidate(key.username);
  }

  private view(key: KeyDocument) {
    return { id: key._id.toString(), title: key.title, type: key.type, key: keyLine(key), fingerprint: key.fingerprint, createdAt: key.createdAt.toISOString() };
  }
}
