import type mongoose from 'mongoose';
import type { Principal } from '@tmuxme/auth';
import { unauthorized } from '@tmuxme/service-kit';
import type { UserDocument, UsernameDocument } from '../model/user.js';
import { isDuplicateKey } from '@tmuxme/service-kit';
import type { KnownUsers } from './known-users.js';

function unlessTwin(error: unknown) {
  if (!isDuplicateKey(error)) throw error;
}

/**
 * Who has an account, as accounts' events told us: hosts must be live, guests must exist. Every read
 * and write is by `_id`; the rules (a deletion is final) are checked here rather than in filters.
 * Accounts already known to this replica are answered from memory (KnownUsers).
 */
export class Users {
  constructor(
    private readonly users: mongoose.Model<UserDocument>,
    private readonly usernames: mongoose.Model<UsernameDocument>,
    private readonly known: KnownUsers,
  ) {}

  async record(userId: string, username: string) {
    const stored = await this.users.findById(userId, { deleted: 1 }).lean();
    // The account was deleted, and stays so, whatever a replayed registration says.
    if (stored?.deleted) return;
    // Two upserts racing both insert on FerretDB; the one that loses finds the document the other wrote.
    await this.users.updateOne({ _id: userId }, { $set: { username }, $setOnInsert: { deleted: false } }, { upsert: true }).catch(unlessTwin);
    await this.usernames.updateOne({ _id: username }, { $set: { userId } }, { upsert: true }).catch(unlessTwin);
    this.known.remember(userId, username, false);
  }

  async markDeleted(userId: string, username: string) {
    this.known.remember(userId, username, true);
    await this.users.updateOne({ _id: userId }, { $set: { username, deleted: true } }, { upsert: true });
    const holder = await this.usernames.findById(username, { userId: 1 }).lean();
    // Only if nobody has taken the name since.
    if (holder?.userId === userId) await this.usernames.deleteOne({ _id: username });
  }

  /** The JWT proves the account was registered even before UserRegistered reached us; a deletion is final. */
  async assertLive(principal: Principal) {
    const known = this.known.isLive(principal.userId);
    if (known === true) return;
    const gone = unauthorized('ACCOUNT_GONE', 'This account no longer exists.');
    if (known === false) throw gone;
    const user = await this.users.findById(principal.userId, { username: 1, deleted: 1 }).lean();
    if (user) this.known.remember(principal.userId, user.username, user.deleted);
    if (user?.deleted) throw gone;
    if (!user) await this.record(principal.userId, principal.username);
  }

  /** Names recorded before they had documents of their own; at start, where a scan is fine. */
  async backfillUsernames(): Promise<number> {
    let added = 0;
    for await (const user of this.users.find({ deleted: false }, { username: 1 }).lean().cursor()) {
      if (await this.usernames.exists({ _id: user.username })) continue;
      await this.usernames.updateOne({ _id: user.username }, { $setOnInsert: { userId: user._id } }, { upsert: true }).catch(unlessTwin);
      added += 1;
    }
    return added;
  }

  /** The user ids of the live accounts among these names. */
  async idsByName(usernames: string[]): Promise<Map<string, string>> {
    const found = await Promise.all(usernames.map(async (username) => {
      const knownId = this.known.liveIdOf(username);
      if (knownId !== undefined) return [[username, knownId] as const];
      const holder = await this.usernames.findById(username, { userId: 1 }).lean();
      const user = holder && await this.users.findById(holder.userId, { username: 1, deleted: 1 }).lean();
      if (user) this.known.remember(holder.userId, user.username, user.deleted);
      return user && !user.deleted && user.username === username ? [[username, holder.userId] as const] : [];
    }));
    return new Map(found.flat());
  }
}
