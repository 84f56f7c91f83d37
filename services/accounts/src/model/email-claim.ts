import mongoose from 'mongoose';

/**
 * An e-mail address, held by its account: inserted under the address (lower-case) as `_id`, so a sign-up
 * or an address change claims it atomically and a login by e-mail finds the account by `_id`.
 */
const emailClaimSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  /** Checked where it is used: a claim counts only while its user is live and still has this address. */
  userId: { type: mongoose.Schema.Types.ObjectId, required: true },
  /** Lets the start-up reconciliation tell a claim left behind from one whose change is still running. */
  createdAt: { type: Date, required: true, default: () => new Date() },
}, { versionKey: false });

export type EmailClaimDocument = mongoose.InferSchemaType<typeof emailClaimSchema>;

export function emailClaimModel(db: mongoose.Connection) {
  return db.models.EmailClaim as mongoose.Model<EmailClaimDocument> ?? db.model('EmailClaim', emailClaimSchema, 'emails');
}
