import type mongoose from 'mongoose';
import type { UserDocument } from '../model/user.js';
import type { UsernameClaimDocument } from '../model/username-claim.js';
import type { EmailClaimDocument } from '../model/email-claim.js';
import { isDuplicateKey } from './claims.js';

export interface LookupModels {
  users: mongoose.Model<UserDocument>;
  usernames: mongoose.Model<UsernameClaimDocument>;
  emails: mongoose.Model<EmailClaimDocument>;
}

type Counts = Record<'usernames' | 'emails', number>;

export interface Reconciled {
  added: Counts;
  removed: Counts;
}

/** Younger claims may belong to a request still running, on this replica or another. */
const defaultGraceMs = 10 * 60_000;

type LiveUsers = Map<string, { _id: mongoose.Types.ObjectId; username: string; email: string }>;
type Young = (held: { createdAt: Date }) => boolean;

/**
 * Makes the lookups by `_id` agree with the users. It adds the missing ones (for documents
 * from before the lookups existed, or written by a replica of the old version during a rolling update) and
 * removes those left behind by a request cut short, so a name is not held forever by an account
 * that never came or is gone. It reads whole collections: once at start-up, never on a request path.
 * Safe to run again and beside serving replicas: an insert another replica beat is as good as done, and
 * only claims older than the grace are removed.
 */
export async function reconcileLookups(models: LookupModels, { graceMs = defaultGraceMs, now = Date.now() } = {}): Promise<Reconciled> {
  const live: LiveUsers = new Map((await models.users.find({ deletedAt: null }, { username: 1, email: 1 }).lean()).map((u) => [u._id.toString(), u]));
  const young: Young = (held) => held.createdAt.getTime() >= now - graceMs;
  return reconcileNames(models, live, young);
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
