import type mongoose from 'mongoose';
import type { KeyDocument } from '../model/key.js';
import type { UserDocument } from '../model/user.js';
import { keyLine } from './keys.js';
import type { KeyView } from './key-view.js';

/**
 * Fills the view from whole collections, once: start-up is no request path. Removed keys are read too,
 * so that a late KeyAdded cannot bring one back.
 */
export async function loadKeyView(view: KeyView, { keys, users }: { keys: mongoose.Model<KeyDocument>; users: mongoose.Model<UserDocument> }) {
  for await (const user of users.find({}, { username: 1, deleted: 1 }).lean().cursor({ batchSize: 5000 })) {
    if (user.deleted) view.deleteUser(user._id);
    else view.recordUser(user._id, user.username);
  }
  const live = keys.find({}, { userId: 1, username: 1, type: 1, blob: 1, fingerprint: 1, deletedAt: 1 }).lean().cursor({ batchSize: 5000 });
  for await (const key of live) {
    const keyId = key._id.toHexString();
    if (key.deletedAt) view.removeKey(keyId);
    else view.addKey({ keyId, userId: key.userId, username: key.username, type: key.type, key: keyLine(key), fingerprint: key.fingerprint });
  }
}
