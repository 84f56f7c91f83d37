import mongoose from 'mongoose';

const collection = 'addresses';

/**
 * The notifier's own address book, fed by UserRegistered, UserUpdated and UserDeleted. Keyed by
 * username, the name a session lists its guests by: FerretDB finds a document fast by _id only.
 */
const addressSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  /** The account that holds the name now; a name freed by a deletion may be taken by a new account. */
  userId: { type: String, required: true },
  /** Dropped when the account is deleted: the notifier keeps no address it may no longer use. */
  email: { type: String },
  /** The entry outlives the account so a UserRegistered that arrives late cannot bring the address back. */
  deleted: { type: Boolean, required: true, default: false },
  /** When the newest applied user event happened, so an older one handled later changes nothing. */
  asOf: { type: Date, required: true },
}, { collection, versionKey: false });

export type AddressDocument = mongoose.InferSchemaType<typeof addressSchema>;

export function addressModel(db: mongoose.Connection) {
  return db.models.Address as mongoose.Model<AddressDocument> ?? db.model('Address', addressSchema);
}

/** The same documents without mongoose's document layer (app.ts says why). */
export const addressCollection = (db: mongoose.Connection) => db.collection<AddressDocument>(collection);
