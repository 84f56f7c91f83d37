import mongoose from 'mongoose';
import { outboxFields, type OutboxFields } from '@tmuxme/bus';

/**
 * Found by `_id` alone, through `usernames` and `emails` for a login. Those claims decide who gets a name;
 * the unique indexes stay as the last word where no claim speaks: a deleted account's tombstone keeps its
 * names until the relay purges it, and a replica from before the claims writes users without them.
 */
const userSchema = new mongoose.Schema({
  username: { type: String, required: true, unique: true },
  email: { type: String, required: true, unique: true },
  passwordHash: { type: String, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});
// Each write records the ids of the events it staged (see @tmuxme/bus outbox).
userSchema.plugin(outboxFields);

export type UserDocument = mongoose.InferSchemaType<typeof userSchema> & OutboxFields & { _id: mongoose.Types.ObjectId };

export function userModel(db: mongoose.Connection) {
  return db.models.User as mongoose.Model<UserDocument> ?? db.model('User', userSchema);
}
