import type mongoose from 'mongoose';
import type { LeaseDocument } from '../model/lease.js';

/** The live leases on one box, for a tunnel box converging after a start. */
export async function* leaseSnapshot(leases: mongoose.Model<LeaseDocument>, tunnelHost: string) {
  const live = leases.find({ tunnelHost, deletedAt: null }, { userId: 1, username: 1, tunnelHost: 1, port: 1, private: 1, expiresAt: 1 })
    .lean().cursor({ batchSize: 5000 });
  for await (const l of live) {
    yield { leaseId: l._id.toString(), userId: l.userId, username: l.username, tunnelHost: l.tunnelHost, port: l.port, private: l.private === true,
      expiresAt: l.expiresAt.toISOString() };
  }
}
