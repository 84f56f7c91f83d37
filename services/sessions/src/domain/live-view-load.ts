import type mongoose from 'mongoose';
import type { EndingDocument } from '../model/ending.js';
import type { LeaseDocument } from '../model/lease.js';
import type { SessionDocument } from '../model/session.js';
import { leaseEnding, sessionEnding } from './endings.js';
import { boxIdOf } from './leases.js';
import type { LiveView } from './live-view.js';

export interface LiveViewSources {
  leases: mongoose.Model<LeaseDocument>;
  sessions: mongoose.Model<SessionDocument>;
  endings: mongoose.Model<EndingDocument>;
}

/** Fills the view from the database: one pass over each collection, at start only, where a scan is fine. */
export async function loadLiveView(view: LiveView, { leases, sessions, endings }: LiveViewSources): Promise<void> {
  const ended = new Set((await endings.find({}, { _id: 1 }).lean()).map((ending) => ending._id));
  for await (const lease of leases.find({ deletedAt: null }).lean().cursor({ batchSize: 5000 })) {
    const leaseId = lease._id.toString();
    if (ended.has(leaseEnding(leaseId))) continue;
    view.addLease({
      leaseId, userId: lease.userId, username: lease.username, boxId: boxIdOf(lease), tunnelHost: lease.tunnelHost, port: lease.port,
      private: lease.private === true, expiresAt: lease.expiresAt.toISOString(),
    });
  }
  for await (const session of sessions.find({ deletedAt: null }).lean().cursor({ batchSize: 5000 })) {
    const sessionId = session._id.toString();
    if (ended.has(sessionEnding(sessionId))) continue;
    view.addSession({
      sessionId, hostUserId: session.host.userId, guestUserIds: session.guests.map((guest) => guest.userId), boxId: boxIdOf(session), port: session.port,
    });
  }
}
