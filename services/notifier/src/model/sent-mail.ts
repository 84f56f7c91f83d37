import mongoose from 'mongoose';

const collection = 'sent_mails';

/** A mail the SMTP server accepted; its existence is what stops a redelivered event from sending it again. No address is kept. */
const sentMailSchema = new mongoose.Schema({
  /** `<eventId>:<username>` */
  _id: { type: String, required: true },
  sessionId: { type: String, required: true },
  messageId: { type: String, required: true },
  sentAt: { type: Date, required: true },
}, { collection, versionKey: false });

export type SentMailDocument = mongoose.InferSchemaType<typeof sentMailSchema>;

export function sentMailModel(db: mongoose.Connection) {
  return db.models.SentMail as mongoose.Model<SentMailDocument> ?? db.model('SentMail', sentMailSchema);
}

/** The same documents without mongoose's document layer (app.ts says why). */
export const sentMailCollection = (db: mongoose.Connection) => db.collection<SentMailDocument>(collection);
