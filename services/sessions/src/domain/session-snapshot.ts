import type mongoose from 'mongoose';
import { notGoneNorExpired, type SessionDocument } from '../model/session.js';
import type { Endings } from './endings.js';
import { onBox } from './lease-snapshot.js';

// Endings are looked up a batch at a time rather than once per session.
const batchSize = 500;

type Standing = Pick<SessionDocument, '_id' | 'host' | 'guests' | 'port'>;

async function* notEnded(batch: Standing[], endings: Endings) {
  for (const s of await endings.sessionsNotEnded(batch)) {
    yield { sessionId: s._id.toString(), hostUserId: s.host.userId, port: s.port, guestUserIds: s.guests.map((guest) => guest.userId) };
  }
}

/**
 * The live sessions on one box, who hosts them and who may join, for a tunnel box rebuilding its jump
 * user's keys after a start. Live as the API counts it: not marked gone, not ended, heartbeat recent.
 */
export async function* sessionSnapshot(sessions: mongoose.Model<SessionDocument>, endings: Endings, boxId: string) {
  const standing = sessions.find({ ...onBox(boxId), ...notGoneNorExpired() }, { host: 1, guests: 1, port: 1 })
    .lean<Standing[]>().cursor({ batchSize: 5000 });
  let batch: Standing[] = [];
  for await (const session of standing) {
    batch.push(session);
    if (batch.length < batchSize) continue;
    yield* notEnded(batch, endings);
    batch = [];
  }
  yield* notEnded(batch, endings);
}
