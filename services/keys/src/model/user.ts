import mongoose from 'mongoose';

/** Keys' own view of accounts, fed by UserRegistered, UserUpdated and UserDeleted. */
const userSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  username: { type: String, required: true },
  /** Kept after deletion so a late KeyAdd with a still-valid JWT is refused. */
  deleted: { type: Boolean, required: true, default: false },
});

export type UserDocument = mongoose.InferSchemaType<typeof userSchema>;

export function userModel(db: mongoose.Connection) {
  return db.models.User as mongoose.Model<UserDocument> ?? db.model('User', userSchema);
}
