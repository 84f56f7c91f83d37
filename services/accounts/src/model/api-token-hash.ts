import mongoose from 'mongoose';

/**
 * Where the token exchange finds a token: `_id` is the SHA-256 of the secret (never the secret itself),
 * the one filter FerretDB v1 answers from an index.
 */
const apiTokenHashSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  tokenId: { type: mongoose.Schema.Types.ObjectId, required: true },
  /** Lets the start-up reconciliation tell a lookup left behind from one whose token is being created. */
  createdAt: { type: Date, required: true, default: () => new Date() },
}, { versionKey: false });

export type ApiTokenHashDocument = mongoose.InferSchemaType<typeof apiTokenHashSchema>;

export function apiTokenHashModel(db: mongoose.Connection) {
  return db.models.ApiTokenHash as mongoose.Model<ApiTokenHashDocument> ?? db.model('ApiTokenHash', apiTokenHashSchema, 'api_token_hashes');
}
