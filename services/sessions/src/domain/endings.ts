import type mongoose from 'mongoose';
import type { Envelope } from '@tmuxme/events';
import type { Outbox } from '@tmuxme/bus';
import type { EndingDocument } from '../model/ending.js';
import { isDuplicateKey } from '@tmuxme/service-kit';

export const leaseEnding = (leaseId: unknown) => `lease:${String(leaseId)}`;
export const sessionEnding = (sessionId: unknown) => `session:${String(sessionId)}`;

/** Ends leases and sessions exactly once, however many requests and sweepers try at the same moment. */
export class Endings {
  constructor(private readonly endings: mongoose.Model<EndingDocument>, private readonly outbox: Outbox) {}

  /** Records the end with its events; false, publishing nothing, when it had ended already. */
  async record(id: string, reason: string, events: Envelope[]): Promise<boolean> {
    const { endings, outbox } = this;
    try {
      await outbox.write(events, { model: endings, id, inserted: true }, (eventIds) => endings.create({ _id: id, reason, eventIds }));
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  /** One read by `_id` each: FerretDB v1 answers `$in` with a scan (docs/architecture.md §8). */
  async ended(ids: string[]): Promise<Set<string>> {
    const found = await Promise.all(ids.map(async (id) => ((await this.isEnded(id)) ? [id] : [])));
    return new Set(found.flat());
  }

  /** Those of `sessions` whose end is not recorded. */
  async sessionsNotEnded<T extends { _id: unknown }>(sessions: T[]): Promise<T[]> {
    const ended = await this.ended(sessions.map((session) => sessionEnding(session._id)));
    return sessions.filter((session) => !ended.has(sessionEnding(session._id)));
  }

  /** Every end recorded: the sweeper's one pass over them, rather than a read per lease or session. */
  async all(): Promise<Set<string>> {
    return new Set((await this.endings.find({}, { _id: 1 }).lean()).map((ending) => ending._id));
  }

  async isEnded(id: string): Promise<boolean> {
    return (await this.endings.findById(id, { _id: 1 }).lean()) !== null;
  }

  /** The ends of one kind recorded before `before` and not yet let go. */
  async recordedBefore(kind: 'lease' | 'session', before: Date): Promise<string[]> {
    const found = await this.endings.find({ _id: { $regex: `^${kind}:` }, createdAt: { $lt: before }, deletedAt: null }, { _id: 1 }).lean();
    return found.map((ending) => ending._id);
  }

  /** Lets the outbox relay purge these once their events are out. */
  async forget(ids: string[]) {
    if (ids.length > 0) await this.endings.updateMany({ _id: { $in: ids }, deletedAt: null }, { $set: { deletedAt: new Date() } });
  }
}
