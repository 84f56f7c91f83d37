import type mongoose from 'mongoose';
import type { UserDocument } from '../model/user.js';
import type { UsernameClaimDocument } from '../model/username-claim.js';
import type { EmailClaimDocument } from '../model/email-claim.js';
import type { ApiTokenDocument } from '../model/api-token.js';
import type { ApiTokenHashDocument } from '../model/api-token-hash.js';
import type { ApiTokenSlotDocument } from '../model/api-token-slot.js';
import { maxApiTokensPerUser, slotId } from './api-tokens.js';
import { isDuplicateKey } from '@tmuxme/service-kit';

export interface LookupModels {
  users: mongoose.Model<UserDocument>;
  usernames: mongoose.Model<UsernameClaimDocument>;
  emails: mongoose.Model<EmailClaimDocument>;
  tokens: mongoose.Model<ApiTokenDocument>;
  hashes: mongoose.Model<ApiTokenHashDocument>;
  slots: mongoose.Model<ApiTokenSlotDocument>;
}

type Counts = Record<'usernames' | 'emails' | 'slots' | 'hashes', number>;

export interface Reconciled {
  added: Counts;
  removed: Counts;
  /**
   * The newest tokens of a user who had more than 50 (the cap was a count before, which concurrent creates
   * could pass). They are deleted: without a slot a token cannot be listed, and one its owner cannot see
   * must not work, nor come back to life once a slot is free.
   */
  revoked: string[];
}

/** Younger claims may belong to a request still running, on this replica or another. */
const defaultGraceMs = 10 * 60_000;

type LiveUsers = Map<string, { _id: mongoose.Types.ObjectId; username: string; email: string }>;
type Young = (held: { createdAt: Date }) => boolean;

/**
 * Makes the lookups by `_id` agree with the users and API tokens. It adds the missing ones (for documents
 * from before the lookups existed, or written by a replica of the old version during a rolling update) and
 * removes those left behind by a request cut short, so a name or a slot is not held forever by an account
 * that never came or is gone. It reads whole collections: once at start-up, never on a request path.
 * Safe to run again and beside serving replicas: an insert another replica beat is as good as done, and
 * only claims older than the grace are removed.
 */
export async function reconcileLookups(models: LookupModels, { graceMs = defaultGraceMs, now = Date.now() } = {}): Promise<Reconciled> {
  const live: LiveUsers = new Map((await models.users.find({ deletedAt: null }, { username: 1, email: 1 }).lean()).map((u) => [u._id.toString(), u]));
  const young: Young = (held) => held.createdAt.getTime() >= now - graceMs;
  const names = await reconcileNames(models, live, young);
  const tokens = await reconcileTokens(models, live, young);
  return { added: { ...names.added, ...tokens.added }, removed: { ...names.removed, ...tokens.removed }, revoked: tokens.revoked };
}

async function reconcileNames({ usernames, emails }: LookupModels, live: LiveUsers, young: Young) {
  const holder = (held: { userId: mongoose.Types.ObjectId }) => live.get(held.userId.toString());
  const names = await dropStale(usernames, (held) => young(held) || holder(held)?.username === held._id);
  const addresses = await dropStale(emails, (held) => young(held) || holder(held)?.email === held._id);
  const named = new Set(names.kept.map((held) => held._id));
  const addressed = new Set(addresses.kept.map((held) => held._id));
  const users = [...live.values()];
  return {
    added: {
      usernames: await insertMissing(usernames, users.filter((u) => !named.has(u.username)).map((u) => ({ _id: u.username, userId: u._id }))),
      emails: await insertMissing(emails, users.filter((u) => !addressed.has(u.email)).map((u) => ({ _id: u.email, userId: u._id }))),
    },
    removed: { usernames: names.removed, emails: addresses.removed },
  };
}

/** The oldest tokens of a user get the free slots first, so those beyond 50 are the newest. */
async function reconcileTokens({ tokens, hashes, slots }: LookupModels, live: LiveUsers, young: Young) {
  const all = (await tokens.find({}, { userId: 1, hash: 1, createdAt: 1 }).lean()).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const existing = new Set(all.map((t) => t._id.toString()));
  const places = await dropStale(slots, (held) => young(held) || existing.has(held.tokenId.toString()));
  const lookups = await dropStale(hashes, (held) => young(held) || existing.has(held.tokenId.toString()));

  const slotted = new Set(places.kept.map((held) => held.tokenId.toString()));
  const taken = new Set(places.kept.map((held) => held._id));
  const newSlots: { _id: string; tokenId: mongoose.Types.ObjectId }[] = [];
  const revoked = new Set<string>();
  for (const token of all.filter((t) => live.has(t.userId.toString()) && !slotted.has(t._id.toString()))) {
    const userId = token.userId.toString();
    const free = Array.from({ length: maxApiTokensPerUser }, (_, n) => slotId(userId, n)).find((id) => !taken.has(id));
    if (free === undefined) {
      revoked.add(token._id.toString());
    } else {
      taken.add(free);
      newSlots.push({ _id: free, tokenId: token._id });
    }
  }
  const addedSlots = await insertMissing(slots, newSlots);
  await Promise.all([...revoked].map((_id) => tokens.deleteOne({ _id })));

  const lookedUp = new Set(lookups.kept.map((held) => held._id));
  const usable = all.filter((t) => live.has(t.userId.toString()) && !revoked.has(t._id.toString()) && !lookedUp.has(t.hash));
  return {
    added: { slots: addedSlots, hashes: await insertMissing(hashes, usable.map((t) => ({ _id: t.hash, tokenId: t._id }))) },
    removed: { slots: places.removed, hashes: lookups.removed },
    revoked: [...revoked],
  };
}

/** Deletes the claims `keep` rejects, by `_id` (each was read just now, and no request holds a stale claim). */
async function dropStale<T extends { _id: string }>(model: mongoose.Model<T>, keep: (held: T) => boolean) {
  const all = await model.find().lean<T[]>();
  const stale = all.filter((held) => !keep(held));
  await Promise.all(stale.map((held) => model.deleteOne({ _id: held._id })));
  return { kept: all.filter(keep), removed: stale.length };
}

/** A duplicate is a lookup another replica added meanwhile, which is as good; returns how many this one added. */
async function insertMissing<T>(model: mongoose.Model<T>, docs: Partial<T>[]): Promise<number> {
  if (docs.length === 0) return 0;
  try {
    return (await model.insertMany(docs, { ordered: false })).length;
  } catch (error) {
    const { writeErrors, insertedDocs } = error as { writeErrors?: unknown[]; insertedDocs?: unknown[] };
    if (!writeErrors?.every(isDuplicateKey)) throw error;
    return insertedDocs?.length ?? 0;
  }
}
