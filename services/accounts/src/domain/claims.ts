import type mongoose from 'mongoose';

export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number }).code === 11000;
}

interface Claim {
  _id: string;
  /** Set on insert; the start-up reconciliation leaves younger claims alone, their request may still be running. */
  createdAt: Date;
}

/**
 * Inserts `doc` under its `_id`: of any number of requests claiming one `_id` at once exactly one gets
 * true, since a unique index is the one thing FerretDB v1 (no transactions, updates that rewrite whole
 * documents) enforces atomically.
 */
export async function claim<T extends Claim>(model: mongoose.Model<T>, doc: Omit<T, 'createdAt'>): Promise<boolean> {
  try {
    await model.create(doc as Partial<T>);
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

/**
 * Deletes the claim `_id` if `owns` finds it is still the caller's. It is read and deleted by `_id` alone,
 * the only filter FerretDB v1 answers from an index, and checked in between: that stays true, since no one
 * else deletes a claim its owner holds.
 */
export async function release<T extends Claim>(model: mongoose.Model<T>, _id: string, owns: (held: T) => boolean): Promise<void> {
  const held = await model.findById(_id).lean<T>();
  if (held && owns(held)) await model.deleteOne({ _id });
}
