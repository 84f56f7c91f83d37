import mongoose from 'mongoose';
import { outboxFields, type OutboxFields } from '@tmuxme/bus';

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
