import mongoose from 'mongoose';

/** An API token; its `_id` is the public id the token list shows and revocation takes. */
const apiTokenSchema = new mongoose.Schema({
  userId: { type: mongoose.Schema.Types.ObjectId, required: true },
  name: { type: String, required: true },
  /** SHA-256 of the secret; the secret itself is shown once and never stored. The exchange finds it through `api_token_hashes`. */
  hash: { type: String, required: true, unique: true },
  hint: { type: String, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
  lastUsedAt: { type: Date, default: null },
});

export type ApiTokenDocument = mongoose.InferSchemaType<typeof apiTokenSchema> & { _id: mongoose.Types.ObjectId };

export function apiTokenModel(db: mongoose.Connection) {
  return db.models.ApiToken as mongoose.Model<ApiTokenDocument> ?? db.model('ApiToken', apiTokenSchema);
}
