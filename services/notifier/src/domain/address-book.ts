import type mongoose from 'mongoose';
import type { AddressDocument } from '../model/address.js';

/**
 * Who gets mail where: the notifier's own projection of the accounts' user events. Each change reads
 * the entry and replaces it by _id (FerretDB v1 has no compare-and-set, and a filtered update would scan
 * the collection), so changes to one name take turns within a replica. Two replicas handling events about
 * the same name at the same instant may still apply them out of order.
 */
export class AddressBook {
  private readonly changing = new Map<string, Promise<void>>();

  constructor(private readonly addresses: mongoose.Collection<AddressDocument>) {}

  /** A registration or an e-mail change, unless a newer event, or this account's deletion, was applied already. */
  record(userId: string, username: string, email: string, asOf: Date): Promise<void> {
    return this.inTurn(username, async () => {
      const current = await this.addresses.findOne({ _id: username });
      if (current && (current.asOf > asOf || (current.deleted && current.userId === userId))) return;
      await this.addresses.replaceOne({ _id: username }, { userId, email, deleted: false, asOf }, { upsert: true });
    });
  }

  /** Deletion is final for the account; the name itself may be registered again by another one later. */
  forget(userId: string, username: string, asOf: Date): Promise<void> {
    return this.inTurn(username, async () => {
      const current = await this.addresses.findOne({ _id: username });
      if (current && current.asOf > asOf) return;
      await this.addresses.replaceOne({ _id: username }, { userId, deleted: true, asOf }, { upsert: true });
    });
  }

  /** The addresses of the live accounts among these usernames. */
  async emailsOf(usernames: string[]): Promise<Map<string, string>> {
    const entries = await Promise.all(usernames.map((username) => this.addresses.findOne({ _id: username }, { projection: { email: 1, deleted: 1 } })));
    return new Map(entries.flatMap((entry) => (entry?.email && !entry.deleted ? [[entry._id, entry.email] as const] : [])));
  }

  private inTurn(username: string, change: () => Promise<void>): Promise<void> {
    const turn = (this.changing.get(username) ?? Promise.resolve()).catch(() => {}).then(change);
    this.changing.set(username, turn);
    const done = () => {
      if (this.changing.get(username) === turn) this.changing.delete(username);
    };
    turn.then(done, done);
    return turn;
  }
}
