import mongoose from 'mongoose';
import { outboxPlugin, type OutboxFields } from '@tmuxme/bus';

const userSchema = new mongoose.Schema({
  username: { type: String, required: true, unique: true },
  email: { type: String, required: true, unique: true },
  passwordHash: { type: String, required: true },
  createdAt: { type: Date, required: true, default: () => new Date() },
});
// The user's events travel in the user document itself (see @tmuxme/bus outbox).
userSchema.plugin(outboxPlugin);

export type UserDocument = mongoose.InferSchemaType<typeof userSchema> & OutboxFields & { _id: mongoose.Types.ObjectId };

export function userModel(db: mongoose.Connection) {
  return db.models.User as mongoose.Model<UserDocument> ?? db.model('User', userSchema);
}
