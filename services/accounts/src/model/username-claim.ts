import mongoose from 'mongoose';

/**
 * A username, held by its account: inserted under the username as `_id`, so a sign-up claims the name
 * atomically (the unique `_id` decides between racing sign-ups) and a login finds the account by the
 * one filter FerretDB v1 answers from an index.
 */
const usernameClaimSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  /** Checked where it is used: a claim counts only while its user is live and still has this name. */
  userId: { type: mongoose.Schema.Types.ObjectId, required: true },
  /** Lets the start-up reconciliation tell a claim left behind from one whose sign-up is still running. */
  createdAt: { type: Date, required: true, default: () => new Date() },
}, { versionKey: false });

export type UsernameClaimDocument = mongoose.InferSchemaType<typeof usernameClaimSchema>;

export function usernameClaimModel(db: mongoose.Connection) {
  return db.models.UsernameClaim as mongoose.Model<UsernameClaimDocument> ?? db.model('UsernameClaim', usernameClaimSchema, 'usernames');
}
