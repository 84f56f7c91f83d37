import type mongoose from 'mongoose';
import type { LeaseDocument } from '../model/lease.js';

/** One page of the live leases on one box, in id order, for a tunnel box converging after a start. */
export async function leaseSnapshot(leases: mongoose.Model<LeaseDocument>, tunnelHost: string, after: string | undefined, limit: number) {
  const page = await leases.find({ tunnelHost, deletedAt: null, ...(after ? { _id: { $gt: after } } : {}) },
    { userId: 1, username: 1, tunnelHost: 1, port: 1, expiresAt: 1 }).sort({ _id: 1 }).limit(limit).lean();
  return {
    leases: page.map((l) => ({
      leaseId: l._id.toString(), userId: l.userId, username: l.username, tunnelHost: l.tunnelHost, port: l.port, expiresAt: l.expiresAt.toISOString(),
    })),
    next: page.length === limit ? page[page.length - 1]!._id.toString() : null,
  };
}
