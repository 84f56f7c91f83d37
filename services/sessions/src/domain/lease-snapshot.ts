import type mongoose from 'mongoose';
import type { LeaseDocument } from '../model/lease.js';

/** Documents on one box: those from before box ids name it by host name, which was its id then. */
export const onBox = (boxId: string) => ({ $or: [{ boxId }, { boxId: null, tunnelHost: boxId }] });

/** The live leases on one box, for a tunnel box converging after a start. */
export async function* leaseSnapshot(leases: mongoose.Model<LeaseDocument>, boxId: string) {
  const live = leases.find({ ...onBox(boxId), deletedAt: null }, { userId: 1, username: 1, tunnelHost: 1, port: 1, private: 1, expiresAt: 1 })
    .lean().cursor({ batchSize: 5000 });
  for await (const l of live) {
    yield { leaseId: l._id.toString(), userId: l.userId, username: l.username, boxId, tunnelHost: l.tunnelHost, port: l.port, private: l.private === true,
      expiresAt: l.expiresAt.toISOString() };
  }
}
