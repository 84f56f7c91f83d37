import type mongoose from 'mongoose';
import type { Principal } from '@tmuxme/auth';
import { unauthorized } from '@tmuxme/service-kit';
import type { UserDocument } from '../model/user.js';
import { isDuplicateKey } from './claims.js';

/** Who has an account, as accounts' events told us: hosts must be live, guests must exist. */
export class Users {
  constructor(private readonly users: mongoose.Model<UserDocument>) {}

  async record(userId: string, username: string) {
    await this.users.updateOne({ _id: userId, deleted: false }, { $set: { username } }, { upsert: true }).catch((error) => {
      // A tombstone for this id exists (the account was deleted, and stays so), or a twin upsert won.
      if (!isDuplicateKey(error)) throw error;
    });
  }

  async markDeleted(userId: string, username: string) {
    await this.users.updateOne({ _id: userId }, { $set: { username, deleted: true } }, { upsert: true });
  }

  /** The JWT proves the account was registered even before UserRegistered reached us; a deletion is final. */
  async assertLive(principal: Principal) {
    const user = await this.users.findById(principal.userId, { deleted: 1 }).lean();
    if (user?.deleted) throw unauthorized('ACCOUNT_GONE', 'This account no longer exists.');
    if (!user) await this.record(principal.userId, principal.username);
  }

  /** The user ids of the live accounts among these names. */
  async idsByName(usernames: string[]): Promise<Map<string, string>> {
    const found = await this.users.find({ username: { $in: usernames }, deleted: false }, { username: 1 }).lean();
    return new Map(found.map((user) => [user.username, user._id]));
  }
}
