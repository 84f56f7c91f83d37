import mongoose from 'mongoose';

/**
 * One of a user's key slots, `_id` `<userId>:<n>` for n below the per-user cap: a key holds one, so the
 * cap holds under concurrent adds (a unique insert is FerretDB's one atomic claim), and the user's keys
 * are found by reading the slots by `_id` rather than by a query on `userId`, which would scan.
 */
const keySlotSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  /** Checked before release, so a late cleanup never frees a slot another key holds by now. */
  keyId: { type: String, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});

/** A key's fingerprint, `_id` the fingerprint itself: a key belongs to one account at most. */
const fingerprintClaimSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  keyId: { type: String, required: true },
  /** Tells "you have added this key already" from "it belongs to someone else" without reading the key. */
  userId: { type: String, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});

export type KeySlotDocument = mongoose.InferSchemaType<typeof keySlotSchema>;
export type FingerprintClaimDocument = mongoose.InferSchemaType<typeof fingerprintClaimSchema>;

export function keySlotModel(db: mongoose.Connection) {
  return db.models.KeySlot as mongoose.Model<KeySlotDocument> ?? db.model('KeySlot', keySlotSchema, 'key_slots');
}

export function fingerprintClaimModel(db: mongoose.Connection) {
  return db.models.FingerprintClaim as mongoose.Model<FingerprintClaimDocument>
    ?? db.model('FingerprintClaim', fingerprintClaimSchema, 'key_fingerprints');
}
