import mongoose from 'mongoose';

const collection = 'mail_claims';

/** A replica's right to send one mail; see domain/mail-ledger.ts for why these are only ever inserted. */
const mailClaimSchema = new mongoose.Schema({
  /** `<eventId>:<username>#<generation>`: the unique _id is what lets exactly one replica win each generation. */
  _id: { type: String, required: true },
  generation: { type: Number, required: true },
  claimedAt: { type: Date, required: true },
  /** The replica holding it, for the logs of the one that has to wait. */
  holder: { type: String, required: true },
}, { collection, versionKey: false });

export type MailClaimDocument = mongoose.InferSchemaType<typeof mailClaimSchema>;

export function mailClaimModel(db: mongoose.Connection) {
  return db.models.MailClaim as mongoose.Model<MailClaimDocument> ?? db.model('MailClaim', mailClaimSchema);
}

/** The same documents without mongoose's document layer (app.ts says why). */
export const mailClaimCollection = (db: mongoose.Connection) => db.collection<MailClaimDocument>(collection);
