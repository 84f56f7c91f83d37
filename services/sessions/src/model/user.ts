import mongoose from 'mongoose';

/** Sessions' own view of accounts, fed by UserRegistered, UserUpdated and UserDeleted: who may be a guest. */
const userSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  username: { type: String, required: true, index: true },
  /** Kept after deletion so a still-valid JWT cannot lease again and a replayed UserRegistered cannot revive it. */
  deleted: { type: Boolean, required: true, default: false },
});

export type UserDocument = mongoose.InferSchemaType<typeof userSchema>;

export function userModel(db: mongoose.Connection) {
  return db.models.User as mongoose.Model<UserDocument> ?? db.model('User', userSchema);
}
