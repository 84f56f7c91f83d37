import type mongoose from 'mongoose';

/** The envelope ids a consumer has handled, so a redelivered or twice-published event runs once. */
export interface Inbox {
  has(id: string): Promise<boolean>;
  record(id: string, type: string): Promise<void>;
}

interface ProcessedEvent {
  _id: string;
  type: string;
  at: Date;
}

/**
 * An inbox in the consuming service's own database. Recording is a plain insert keyed by the envelope
 * id: FerretDB has no atomic find-and-modify, but a unique `_id` makes a concurrent second insert fail.
 */
export function mongooseInbox(connection: mongoose.Connection, collection = 'processed_events'): Inbox {
  const processed = connection.collection<ProcessedEvent>(collection);
  return {
    async has(id) {
      return (await processed.findOne({ _id: id }, { projection: { _id: 1 } })) !== null;
    },
    async record(id, type) {
      try {
        await processed.insertOne({ _id: id, type, at: new Date() });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    },
  };
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
