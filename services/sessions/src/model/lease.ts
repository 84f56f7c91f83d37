import mongoose from 'mongoose';
import { outboxFields, type OutboxFields } from '@tmuxme/bus';

/**
 * A port on a tunnel box, leased to one user. Written once (with PortLeased) and never updated but to
 * mark it gone: its end is a separate insert (see ending.ts), so no two writers ever share this document.
 */
const leaseSchema = new mongoose.Schema({
  userId: { type: String, required: true },
  username: { type: String, required: true },
  /** The `_id` of the lease's slot claim, to free it again. */
  slot: { type: String, required: true },
  /** The box the port is on; absent from documents from before box ids, whose box is named by tunnelHost. */
  boxId: { type: String },
  tunnelHost: { type: String, required: true },
  /** Kept with the lease, so a box that stopped sending heartbeats still shows right in live sessions. */
  tunnelPort: { type: Number, required: true },
  port: { type: Number, required: true },
  /**
   * Bound to the box's loopback only: its host logs in as the box's private tunnel user. Absent (public)
   * from documents older than private leases, and lean reads apply no defaults, so no default is declared.
   */
  private: { type: Boolean },
  /** The box's host key (`type base64`) when leased; absent from older documents. */
  tunnelHostKey: { type: String },
  /** When the lease ends unless a session is declared on it; after that the session's heartbeats decide. */
  expiresAt: { type: Date, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});
leaseSchema.plugin(outboxFields);

export type LeaseDocument = mongoose.InferSchemaType<typeof leaseSchema> & OutboxFields & { _id: mongoose.Types.ObjectId };

export function leaseModel(db: mongoose.Connection) {
  return db.models.Lease as mongoose.Model<LeaseDocument> ?? db.model('Lease', leaseSchema);
}
