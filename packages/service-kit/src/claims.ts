import type mongoose from 'mongoose';

export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown }).code === 11000;
}

/**
 * Inserts a document whose unique `_id` is the thing claimed; false when another request or replica
 * holds it already. FerretDB v1 has no atomic find-and-modify, but a unique insert is atomic.
 */
export async function claim<T>(model: mongoose.Model<T>, document: Partial<T>): Promise<boolean> {
  try {
    await model.create(document);
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

/**
 * Deletes the claim `_id` if `owns` finds it is still the caller's. It is read, then deleted by `_id`
 * alone, the only filter FerretDB v1 answers from an index (it would read, then delete, an
 * `{_id, owner}` filter just the same); what is checked in between stays true, since no one else
 * deletes a claim its owner holds.
 */
export async function releaseClaim<T>(model: mongoose.Model<T>, _id: string, owns: (held: T) => boolean): Promise<void> {
  const held = await model.findById(_id).lean<T>();
  if (held && owns(held)) await model.deleteOne({ _id } as mongoose.QueryFilter<T>);
}
