import mongoose from 'mongoose';

/** Sessions' own view of accounts, fed by UserRegistered, UserUpdated and UserDeleted: who may be a guest. */
const userSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  username: { type: String, required: true },
  /** Kept after deletion so a still-valid JWT cannot lease again and a replayed UserRegistered cannot revive it. */
  deleted: { type: Boolean, required: true, default: false },
});

/**
 * Who holds a username now (`_id` is the username): guests are named by username, and FerretDB v1 finds a
 * document without a scan only by `_id` (docs/architecture.md §8). A name freed by a deleted account may be taken again.
 */
const usernameSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  userId: { type: String, required: true },
});

export type UserDocument = mongoose.InferSchemaType<typeof userSchema>;
export type UsernameDocument = mongoose.InferSchemaType<typeof usernameSchema>;

export function userModel(db: mongoose.Connection) {
  return db.models.User as mongoose.Model<UserDocument> ?? db.model('User', userSchema);
}

export function usernameModel(db: mongoose.Connection) {
  return db.models.Username as mongoose.Model<UsernameDocument> ?? db.model('Username', usernameSchema);
}
