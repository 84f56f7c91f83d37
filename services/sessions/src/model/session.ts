import mongoose from 'mongoose';
import { outboxFields, type OutboxFields } from '@tmuxme/bus';

export interface SessionDocument extends OutboxFields {
  _id: mongoose.Types.ObjectId;
  leaseId: string;
  host: { userId: string; username: string };
  guests: { userId: string; username: string; access: 'rw' | 'ro' }[];
  /** Absent from documents written before box ids: their box is the one named tunnelHost. */
  boxId?: string | null;
  tunnelHost: string;
  tunnelPort: number;
  port: number;
  /** Absent from documents written before private sessions: those are public. */
  private?: boolean | null;
  /** Absent from documents written before it was kept. */
  tunnelHostKey?: string | null;
  hostKey: string | null;
  hostKeyFingerprint: string | null;
  expiresAt: Date;
  createdAt: Date;
}

const guestSchema = new mongoose.Schema({
  /** Matched on, so a later account that takes a deleted guest's name never sees the session. */
  userId: { type: String, required: true },
  username: { type: String, required: true },
  access: { type: String, required: true, enum: ['rw', 'ro'] },
}, { _id: false });

/**
 * A pairing session. Besides its creation only heartbeats (all writing the same field) and its host's
 * moves to another box write it, and its end is a separate insert (see ending.ts), so a lost update cannot
 * lose an end. A move lost to a heartbeat racing it loses its event with it (see the outbox), and the host is told.
 */
const sessionSchema = new mongoose.Schema<SessionDocument>({
  /** One session per lease: the unique index settles two declarations racing for one port. A move changes it. */
  leaseId: { type: String, required: true, unique: true },
  host: {
    userId: { type: String, required: true },
    username: { type: String, required: true },
  },
  guests: { type: [guestSchema], required: true },
  /** The box the session is on; a move changes it with tunnelHost, tunnelPort, port and tunnelHostKey. */
  boxId: { type: String },
  tunnelHost: { type: String, required: true },
  tunnelPort: { type: Number, required: true },
  port: { type: Number, required: true },
  /** As its lease was: reachable through the box's jump user only. */
  private: { type: Boolean },
  /** The box's host key (`type base64`) from the lease, so the jump command pins the box it was leased on. */
  tunnelHostKey: { type: String },
  /** The host's sshd key as `type base64`, for the pinned join command. */
  hostKey: { type: String, default: null },
  hostKeyFingerprint: { type: String, default: null },
  /** Moved on by each heartbeat; the sweeper ends the session once it has passed. */
  expiresAt: { type: Date, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});
sessionSchema.plugin(outboxFields);

/** What the database can tell of a live session; its end, a record of its own, is checked apart (Endings). */
export const notGoneNorExpired = () => ({ deletedAt: null, expiresAt: { $gt: new Date() } });

export function sessionModel(db: mongoose.Connection) {
  return db.models.Session as mongoose.Model<SessionDocument> ?? db.model('Session', sessionSchema);
}
