import mongoose from 'mongoose';
import { outboxFields, type OutboxFields } from '@tmuxme/bus';

const keySchema = new mongoose.Schema({
  userId: { type: String, required: true },
  /** Copied from the user, for the events and the view that answers the public keys API. */
  username: { type: String, required: true },
  title: { type: String, required: true },
  type: { type: String, required: true },
  /** The re-encoded base64 blob; the user's own comment is never kept. */
  blob: { type: String, required: true },
  /**
   * A key belongs to one account at most; its claim in `key_fingerprints` says so, and this index
   * also keeps a key out while its removed twin awaits purging.
   */
  fingerprint: { type: String, required: true, unique: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});
keySchema.plugin(outboxFields);

export type KeyDocument = mongoose.InferSchemaType<typeof keySchema> & OutboxFields & { _id: mongoose.Types.ObjectId };

export function keyModel(db: mongoose.Connection) {
  return db.models.Key as mongoose.Model<KeyDocument> ?? db.model('Key', keySchema);
}
