import mongoose from 'mongoose';

/**
 * One of a user's 50 API token places, `_id` `<userId>:<n>`. A new token claims a free one by insert, so
 * concurrent creates can never hold more than 50 between them; reading the 50 by `_id` lists the tokens.
 */
const apiTokenSlotSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  tokenId: { type: mongoose.Schema.Types.ObjectId, required: true },
  /** Lets the start-up reconciliation tell a slot left behind from one whose token is being created. */
  createdAt: { type: Date, required: true, default: () => new Date() },
}, { versionKey: false });

export type ApiTokenSlotDocument = mongoose.InferSchemaType<typeof apiTokenSlotSchema>;

export function apiTokenSlotModel(db: mongoose.Connection) {
  return db.models.ApiTokenSlot as mongoose.Model<ApiTokenSlotDocument> ?? db.model('ApiTokenSlot', apiTokenSlotSchema, 'api_token_slots');
}
