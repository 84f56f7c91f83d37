import mongoose from 'mongoose';
import { outboxFields, type OutboxFields } from '@tmuxme/bus';

/**
 * The end of a lease (`lease:<id>`) or a session (`session:<id>`), inserted with the event that announces
 * it. The unique `_id` makes the insert a claim: of all the replicas and requests that try to end one
 * thing at once, exactly one succeeds, so PortReleased and SessionEnded go out once.
 */
const endingSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  reason: { type: String, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});
endingSchema.plugin(outboxFields);

export type EndingDocument = mongoose.InferSchemaType<typeof endingSchema> & OutboxFields;

export function endingModel(db: mongoose.Connection) {
  return db.models.Ending as mongoose.Model<EndingDocument> ?? db.model('Ending', endingSchema);
}
