import mongoose from 'mongoose';

/**
 * Something a lease holds exclusively: a port on a box (`<boxId>:<port>`) or one of a user's lease
 * slots (`<userId>:<n>`). Claimed by inserting under the unique `_id`, released by deleting.
 */
const claimSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  /** The box (port claims) or the user (slot claims). Not indexed: nothing looks claims up by it. */
  scope: { type: String, required: true },
  /** Checked on release, so a late cleanup never frees a claim another lease holds by now. */
  leaseId: { type: String, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});

export type ClaimDocument = mongoose.InferSchemaType<typeof claimSchema>;

function claimModel(db: mongoose.Connection, name: string, collection: string) {
  return db.models[name] as mongoose.Model<ClaimDocument> ?? db.model(name, claimSchema, collection);
}

export const portClaimModel = (db: mongoose.Connection) => claimModel(db, 'PortClaim', 'port_claims');
export const leaseSlotModel = (db: mongoose.Connection) => claimModel(db, 'LeaseSlot', 'lease_slots');
/** `<sessionId>:<lease it moved from>`, scoped by the session, naming the lease it moved to. */
export const sessionMoveModel = (db: mongoose.Connection) => claimModel(db, 'SessionMove', 'session_moves');
