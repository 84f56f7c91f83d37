import mongoose from 'mongoose';

/**
 * A tunnel box as its last heartbeat described it (`_id` is the box id). Written only by the heartbeat
 * handler, newest heartbeat wins; read by every replica to place leases.
 */
const boxSchema = new mongoose.Schema({
  _id: { type: String, required: true },
  tunnelHost: { type: String, required: true },
  tunnelPort: { type: Number, required: true },
  /** `type base64`, checked. */
  hostKey: { type: String, required: true },
  portRange: {
    type: new mongoose.Schema({ from: { type: Number, required: true }, to: { type: Number, required: true } }, { _id: false }),
    required: true,
  },
  liveLeases: { type: Number, required: true },
  draining: { type: Boolean, required: true },
  /** When the box sent its last heartbeat, by its clock: orders heartbeats that arrive out of turn. */
  at: { type: Date, required: true },
  /** When that heartbeat arrived, by ours: a box silent for too long is out of rotation, whatever its clock says. */
  seenAt: { type: Date, required: true },
});

export type BoxDocument = mongoose.InferSchemaType<typeof boxSchema>;

export function boxModel(db: mongoose.Connection) {
  return db.models.Box as mongoose.Model<BoxDocument> ?? db.model('Box', boxSchema);
}
