import type mongoose from 'mongoose';
import type { Principal } from '@tmuxme/auth';
import { unauthorized } from '@tmuxme/service-kit';
import type { UserDocument } from '../model/user.js';
import { isDuplicateKey } from '@tmuxme/service-kit';

/**
 * Who has an account, as accounts' events told us. Every read and write is by `_id` alone, the one
 * filter FerretDB v1 answers from an index, so the rules (a deletion is final, a replayed registration
 * never revives an account) are decided in code after reading.
 */
export class Users {
  constructor(private readonly users: mongoose.Model<UserDocument>) {}

  async record(userId: string, username: string): Promise<void> {
    const found = await this.users.findById(userId, { username: 1, deleted: 1 }).lean();
    if (found?.deleted || found?.username === username) return;
    if (found) {
      await this.users.updateOne({ _id: userId }, { $set: { username } });
      return;
    }
    try {
      await this.users.create({ _id: userId, username, deleted: false });
    } catch (error) {
      // A twin registration, or the deletion, got there first; either way nothing is left to record.
      if (!isDuplicateKey(error)) throw error;
    }
  }

  async markDeleted(userId: string, username: string): Promise<void> {
    const mark = () => this.users.updateOne({ _id: userId }, { $set: { username, deleted: true } }, { upsert: true });
    try {
      await mark();
    } catch (error) {
      // A registration inserted the document between the upsert's read and its insert: it is there now.
      if (!isDuplicateKey(error)) throw error;
      await mark();
    }
  }

  /** The JWT proves the account was registered even before UserRegistered reached us; a deletion is final. */
  async assertLive(principal: Principal): Promise<void> {
    const user = await this.users.findById(principal.userId, { deleted: 1 }).lean();
    if (user?.deleted) throw unauthorized('ACCOUNT_GONE', 'This account no longer exists.');
    if (!user) await this.record(principal.userId, principal.username);
  }
}
