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
